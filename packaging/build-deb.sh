#!/usr/bin/env bash
# Builds the Debian packages postgresql-<v>-crmsync and crmsync-sender from the
# working tree (committed or not; build directories left out) and leaves the
# .deb files in OUTDIR (default ./dist).
#   packaging/build-deb.sh [OUTDIR]        JOBS=2 by default
# Needs dpkg-dev, debhelper, postgresql-server-dev-all and the build
# dependencies in packaging/debian/control.in (tests/install_deps.sh has them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-dist}
JOBS=${JOBS:-2}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/crmsync-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC="$WORK/crmsync"

"$ROOT/packaging/copy-tree.sh" "$SRC"
rm -rf "$SRC/debian"
cp -a "$ROOT/packaging/debian" "$SRC/debian"

cd "$SRC"
echo "build-deb: building in $SRC" >&2
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
