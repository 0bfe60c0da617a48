#!/usr/bin/env bash
# Builds the RPM packages crmsync_<major> (extension, one per PostgreSQL major, as PGDG
# names them: crmsync_15, crmsync_17, crmsync_18) and crmsync-sender from the working
# tree with packaging/rpm/crmsync.spec, and leaves the .rpm files in OUTDIR (default ./dist).
#   packaging/build-rpm.sh [OUTDIR]        JOBS=2 by default
#   PG_MAJORS="15 17"   the majors to build for; default: those of debian/pgversions
#                       installed here (packaging/pg-majors.sh)
#   PG_CONFIG=...       instead, one major: the one of this pg_config
# On Debian (apt-get install rpm): --nodeps, because the build dependencies are Debian
# packages; each major is compiled against Debian's /usr/lib/postgresql/<major>/bin/pg_config
# and its files still go to PGDG's /usr/pgsql-<major>/ (the spec's defaults). One rpmbuild per
# major, as PGDG does; the sender, which does not depend on the major, only in the first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-dist}
JOBS=${JOBS:-2}
SPEC="$ROOT/packaging/rpm/crmsync.spec"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# The pg_config of each major. Debian's /usr/bin/pg_config is a wrapper (the newest
# server-dev installed); the major's own one, in its bindir, is the one to build with.
pg_configs=()
if [ -n "${PG_CONFIG:-}" ]; then
    pg_config_path=$(command -v "$PG_CONFIG") || { echo "build-rpm: PG_CONFIG=$PG_CONFIG not found" >&2; exit 1; }
    pg_configs+=("$("$pg_config_path" --bindir)/pg_config")
else
    PG_MAJORS=${PG_MAJORS:-$("$ROOT/packaging/pg-majors.sh" | xargs)}
    [ -n "$PG_MAJORS" ] || {
        echo "build-rpm: none of the majors in packaging/debian/pgversions ($(xargs <"$ROOT/packaging/debian/pgversions")) is installed:" \
             "expected /usr/lib/postgresql/<major>/bin/pg_config (postgresql-server-dev-15)" >&2
        exit 1
    }
    for major in $PG_MAJORS; do
        pgc=/usr/lib/postgresql/$major/bin/pg_config
        [ -x "$pgc" ] || { echo "build-rpm: PostgreSQL $major is not installed here: no $pgc" >&2; exit 1; }
        pg_configs+=("$pgc")
    done
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/crmsync-rpm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"/{BUILD,BUILDROOT,RPMS,SOURCES,SPECS,SRPMS}

version=$(awk '/^Version:/ { print $2; exit }' "$SPEC")
"$ROOT/packaging/copy-tree.sh" "$WORK/src/crmsync-$version"
tar -C "$WORK/src" -czf "$WORK/SOURCES/crmsync-$version.tar.gz" "crmsync-$version"

sender=with   # the first build makes crmsync-sender too
for pgc in "${pg_configs[@]}"; do
    pgmajor=$("$pgc" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
    echo "build-rpm: building crmsync_$pgmajor$([ $sender = with ] && echo ' and crmsync-sender') in $WORK" >&2
    rpmbuild -bb --nodeps --$sender sender \
        --define "_topdir $WORK" \
        --define "_smp_build_ncpus $JOBS" \
        --define "_smp_mflags -j$JOBS" \
        --define "debug_package %{nil}" \
        --define "pgmajorversion $pgmajor" \
        --define "pg_config $pgc" \
        "$SPEC" >"$WORK/build-$pgmajor.log" 2>&1 || {
        tail -n 60 "$WORK/build-$pgmajor.log" >&2
        echo "build-rpm: rpmbuild of crmsync_$pgmajor failed (log above)" >&2
        exit 1
    }
    sender=without
done
shopt -s nullglob
rpms=("$WORK"/RPMS/*/*.rpm)
[ ${#rpms[@]} -gt 0 ] || { echo "build-rpm: no .rpm produced" >&2; exit 1; }
cp "${rpms[@]}" "$OUTDIR/"
for rpm in "${rpms[@]}"; do echo "$OUTDIR/$(basename "$rpm")"; done
