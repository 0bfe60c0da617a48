#!/usr/bin/env bash
# Provides a PostgreSQL major that Debian 12 has no binary package of (17, 18), built from
# Debian's own source package: deb-src lines for trixie (17) and sid (18) on the archive apt
# already uses, in a private apt configuration (no binary package of those suites is ever
# installed here). Server, headers, PGXS, pg_regress, the isolation tester and contrib's
# test_decoding are built without docs and kept between runs (redone when missing, of
# another version or of an older layout) under $CRMSYNC_PG_CACHE/<major>, in Debian's own
# layout below that root: usr/lib/postgresql/<major>/{bin,lib}, usr/share/postgresql/<major>,
# usr/include/postgresql/<major>/server (Debian's patches put the major there). PostgreSQL
# finds its files relative to its binaries, so the tree runs where it is, and the packaging
# test can also lay it at / (as a locally built postgresql-<major>) to install
# postgresql-<major>-crmsync onto it. Prints its pg_config.
#
#   tests/install_postgres.sh 17|18        as root (or with sudo); 15 prints the system's
#   CRMSYNC_PG_CACHE=/var/cache/crmsync-postgres (default)
set -euo pipefail
major=${1:?usage: tests/install_postgres.sh 17|18}
case "$major" in
    15) command -v pg_config >/dev/null || { echo "install_postgres: 15 is Debian's package: run tests/install_deps.sh" >&2; exit 1; }
        echo "/usr/lib/postgresql/15/bin/pg_config"; exit 0 ;;
    17) suite=trixie ;;
    18) suite=sid ;;
    *) echo "install_postgres: major $major is not provided here; expected 15, 17 or 18" >&2; exit 2 ;;
esac
cache=${CRMSYNC_PG_CACHE:-/var/cache/crmsync-postgres}
root="$cache/$major"
layout=debian-2   # bump when the configure layout below changes: older builds are redone
bindir="/usr/lib/postgresql/$major/bin"
pg_config_path="$root$bindir/pg_config"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
log() { echo "install_postgres $major: $*" >&2; }

apt_dir="$cache/apt-$suite"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null -o APT::Sandbox::User=root
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1)
$SUDO mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb-src http://deb.debian.org/debian $suite main" | $SUDO tee "$apt_dir/sources.list" >/dev/null
log "reading Debian's $suite source index"
$SUDO apt-get "${apt_opts[@]}" -qq update
version=$(apt-cache "${apt_opts[@]}" showsrc "postgresql-$major" | awk '/^Version:/ { print $2; exit }')
[ -n "$version" ] || { log "Debian $suite has no source package postgresql-$major"; exit 1; }

# Built for this index version before (the build may be an earlier point release: see below).
if [ -x "$pg_config_path" ] && [ "$(cat "$root/.debian-index-version" 2>/dev/null)" = "$version" ] &&
   [ "$(cat "$root/.layout" 2>/dev/null)" = "$layout" ]; then
    log "postgresql-$major $(cat "$root/.debian-version") already built in $root"
    echo "$pg_config_path"
    exit 0
fi

# What the build needs, from bookworm (Debian 12) itself.
missing=()
for p in build-essential bison flex dpkg-dev pkg-config libssl-dev curl; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

work=$(mktemp -d /tmp/crmsync-pgbuild.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
# An earlier point release of the same Debian revision, when the mirror's pool lags its index
# (seen here: trixie's index named 17.12-0+deb13u1 while the pool served 17.9 to 17.11). Such a
# .dsc is not covered by the index's signature, so its own is required: the uploader's key in
# Debian's developer keyring (package debian-keyring); dpkg-source then checks every file
# against the .dsc's checksums.
fetch_earlier() {
    local upstream=${version%%-*} revision=${version#*-}
    local minor=${upstream#*.} pool="http://deb.debian.org/debian/pool/main/p/postgresql-$major"
    dpkg-query -W -f='${Status}' debian-keyring 2>/dev/null | grep -q "install ok installed" ||
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debian-keyring >&2
    for ((m = minor - 1; m >= minor - 4 && m >= 0; m--)); do
        local dsc="postgresql-${major}_$major.$m-$revision.dsc"
        curl -fsS -o "$dsc" "$pool/${dsc//+/%2b}" 2>/dev/null || continue
        log "the pool has no $version; trying $major.$m-$revision"
        local ok=1
        for f in $(awk '/^Files:/ { on = 1; next } /^[^ ]/ { on = 0 } on { print $3 }' "$dsc"); do
            curl -fsS -o "$f" "$pool/${f//+/%2b}" || ok=0
        done
        [ $ok = 1 ] && version="$major.$m-$revision" && return 0
    done
    return 1
}
index_version=$version
log "fetching postgresql-$major $version (source)"
if ! apt-get "${apt_opts[@]}" -qq --download-only source "postgresql-$major=$version" >&2; then
    rm -f ./*.dsc ./*.tar.*
    fetch_earlier || { log "cannot fetch postgresql-$major from the mirror"; exit 1; }
fi
dpkg-source -q --require-valid-signature -x ./*.dsc src >&2 ||
    { log "the source package's signature or checksums do not verify"; exit 1; }
cd src
log "configuring for Debian's layout, installed below $root"
# The server and what extensions are built and tested with; no docs, no optional libraries
# the tests do not use (ICU, readline, zlib, LLVM). The paths are Debian's (pkglibdir =
# libdir, as in postgresql-<major>); the run path names the library directory both where the
# tree is kept and at /, so psql, pg_regress and the isolation tester load this major's
# libpq, not bookworm's.
libdir="/usr/lib/postgresql/$major/lib"
./configure -q --prefix=/usr --bindir="$bindir" --libdir="$libdir" \
    --datadir="/usr/share/postgresql/$major" --includedir=/usr/include/postgresql \
    --without-icu --without-readline --without-zlib --without-llvm \
    --with-openssl --enable-debug CFLAGS="-O2" >&2
run_path="$libdir:$root$libdir"
log "building (make -j${JOBS:-2})"
make -s -j"${JOBS:-2}" rpathdir="$run_path" >&2
make -s -C contrib/test_decoding rpathdir="$run_path" >&2
make -s -C src/test/isolation rpathdir="$run_path" >&2
$SUDO rm -rf "$root"
for dir in . contrib/test_decoding src/test/isolation; do
    $SUDO make -s -C "$dir" install DESTDIR="$root" rpathdir="$run_path" >&2
done
echo "$version" | $SUDO tee "$root/.debian-version" >/dev/null
echo "$index_version" | $SUDO tee "$root/.debian-index-version" >/dev/null
echo "$layout" | $SUDO tee "$root/.layout" >/dev/null
log "built postgresql-$major $version below $root"
"$pg_config_path" --bindir >/dev/null   # runs where it lies
echo "$pg_config_path"
