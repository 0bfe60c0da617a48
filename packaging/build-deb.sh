#!/usr/bin/env bash
# Builds the Debian packages postgresql-<major>-crmsync (one per major) and
# crmsync-sender from the working tree (committed or not; build directories left
# out) and leaves the .deb files in OUTDIR (default ./dist).
#   packaging/build-deb.sh [OUTDIR]        JOBS=2 by default
#   PG_MAJORS="15 17"   the majors to build for; default: those of debian/pgversions
#                       installed here (packaging/pg-majors.sh)
# Needs dpkg-dev, debhelper, postgresql-server-dev-all and the build
# dependencies in packaging/debian/control.in (tests/install_deps.sh has them).
# The Build-Depends name no particular major (postgresql-server-dev-all), so the
# build needs no postgresql-server-dev-17 from an archive: a major is built for
# when its /usr/lib/postgresql/<major>/bin/pg_config and server headers are there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-dist}
JOBS=${JOBS:-2}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
PG_MAJORS=${PG_MAJORS:-$("$ROOT/packaging/pg-majors.sh" | xargs)}
[ -n "$PG_MAJORS" ] || {
    echo "build-deb: none of the majors in packaging/debian/pgversions ($(xargs <"$ROOT/packaging/debian/pgversions")) is installed:" \
         "expected /usr/lib/postgresql/<major>/bin/pg_config (postgresql-server-dev-15)" >&2
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/crmsync-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC="$WORK/crmsync"

"$ROOT/packaging/copy-tree.sh" "$SRC"
rm -rf "$SRC/debian"
cp -a "$ROOT/packaging/debian" "$SRC/debian"

cd "$SRC"
# pg_buildext builds for the majors of debian/pgversions that
# /usr/share/postgresql-common/supported-versions accepts; by default that is only the
# distribution's own (15 on Debian 12). PG_SUPPORTED_VERSIONS overrides it. debian/control
# (committed: every major of pgversions) is regenerated in this copy for the majors built
# here, as `pg_buildext updatecontrol` does, so that dh makes no empty package of a major
# that is absent.
export PG_SUPPORTED_VERSIONS="$PG_MAJORS"
pg_buildext updatecontrol >/dev/null
built=$(sed -n 's/^Package: postgresql-\([0-9]*\)-crmsync$/\1/p' debian/control | sort -n | xargs)
[ "$built" = "$(printf '%s\n' $PG_MAJORS | sort -n | xargs)" ] || {
    echo "build-deb: PG_MAJORS is '$PG_MAJORS' but debian/pgversions gives packages for '$built'" >&2
    exit 1
}
# Each postgresql-<major>-crmsync depends on postgresql-<major> (>> the minor it was built
# against): pg_buildext takes that minor from debian/minor_versions, else from
# postgresql-common's /etc/postgresql-common/minor_versions, which names the archive's newest
# minors (17.12 when the server built here may be 17.11). The minor of the pg_config that
# compiles the package is the true lower bound.
for major in $PG_MAJORS; do
    echo "$major $("/usr/lib/postgresql/$major/bin/pg_config" --version | awk '{ print $2 }')"
done >debian/minor_versions
echo "build-deb: building for PostgreSQL $PG_MAJORS in $SRC ($(paste -sd, debian/minor_versions | sed 's/,/, /g'))" >&2
# nocheck: unit tests run in CI, regression suites as autopkgtest.
DEB_BUILD_OPTIONS="parallel=$JOBS nocheck ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1 || {
    tail -n 60 "$WORK/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed (log above)" >&2
    exit 1
}
# dpkg-buildpackage writes its results next to the source directory.
shopt -s nullglob
debs=("$WORK"/*.deb)
[ ${#debs[@]} -gt 0 ] || { echo "build-deb: no .deb produced" >&2; exit 1; }
cp "${debs[@]}" "$OUTDIR/"
for deb in "${debs[@]}"; do echo "$OUTDIR/$(basename "$deb")"; done
