#!/usr/bin/env bash
# Builds the RPM packages crmsync_<pgmajor> (extension) and crmsync-sender from
# the working tree with packaging/rpm/crmsync.spec, and leaves the .rpm files in
# OUTDIR (default ./dist).
#   packaging/build-rpm.sh [OUTDIR]        JOBS=2, PG_CONFIG=pg_config by default
# On Debian (apt-get install rpm): --nodeps, because the build dependencies are
# Debian packages, and the PostgreSQL paths come from Debian's pg_config, not
# PGDG's /usr/pgsql-<v>.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-dist}
JOBS=${JOBS:-2}
PG_CONFIG=${PG_CONFIG:-pg_config}
SPEC="$ROOT/packaging/rpm/crmsync.spec"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/crmsync-rpm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"/{BUILD,BUILDROOT,RPMS,SOURCES,SPECS,SRPMS}

version=$(awk '/^Version:/ { print $2; exit }' "$SPEC")
"$ROOT/packaging/copy-tree.sh" "$WORK/src/crmsync-$version"
tar -C "$WORK/src" -czf "$WORK/SOURCES/crmsync-$version.tar.gz" "crmsync-$version"

pg_config_path=$(command -v "$PG_CONFIG")
# pg_config on Debian is a wrapper; the version's own one knows its paths.
bindir=$("$pg_config_path" --bindir)
pgmajor=$("$bindir/pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')

echo "build-rpm: building in $WORK" >&2
rpmbuild -bb --nodeps \
    --define "_topdir $WORK" \
    --define "_smp_build_ncpus $JOBS" \
    --define "_smp_mflags -j$JOBS" \
    --define "debug_package %{nil}" \
    --define "pgmajorversion $pgmajor" \
    --define "pginstdir $(dirname "$bindir")" \
    --define "pg_config $bindir/pg_config" \
    --define "pglibdir $("$bindir/pg_config" --pkglibdir)" \
    --define "pgextdir $("$bindir/pg_config" --sharedir)/extension" \
    "$SPEC" >"$WORK/build.log" 2>&1 || {
    tail -n 60 "$WORK/build.log" >&2
    echo "build-rpm: rpmbuild failed (log above)" >&2
    exit 1
}
shopt -s nullglob
rpms=("$WORK"/RPMS/*/*.rpm)
[ ${#rpms[@]} -gt 0 ] || { echo "build-rpm: no .rpm produced" >&2; exit 1; }
cp "${rpms[@]}" "$OUTDIR/"
for rpm in "${rpms[@]}"; do echo "$OUTDIR/$(basename "$rpm")"; done
