#!/usr/bin/env bash
# Provides a PostgreSQL major that Debian 12 has no binary package of (17, 18), built from
# Debian's own source package: deb-src lines for trixie (17) and sid (18) on the archive apt
# already uses, in a private apt configuration (no binary package of those suites is ever
# installed here). Server, headers, PGXS, pg_regress, the isolation tester and contrib's
# test_decoding go into a fixed prefix, without docs; the build is kept there between runs
# and redone when missing or of another version. Prints the prefix's pg_config.
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
prefix="$cache/$major"
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
if [ -x "$prefix/bin/pg_config" ] && [ "$(cat "$prefix/.debian-index-version" 2>/dev/null)" = "$version" ]; then
    log "postgresql-$major $(cat "$prefix/.debian-version") already built in $prefix"
    echo "$prefix/bin/pg_config"
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
log "configuring into $prefix"
# The server and what extensions are built and tested with; no docs, no optional libraries
# the tests do not use (ICU, readline, zlib, LLVM).
./configure -q --prefix="$prefix" --without-icu --without-readline --without-zlib --without-llvm \
    --with-openssl --enable-debug CFLAGS="-O2" >&2
log "building (make -j${JOBS:-2})"
make -s -j"${JOBS:-2}" >&2
make -s -C contrib/test_decoding >&2
$SUDO rm -rf "$prefix"
$SUDO make -s install >&2
$SUDO make -s -C contrib/test_decoding install >&2
$SUDO make -s -C src/test/isolation install >&2
echo "$version" | $SUDO tee "$prefix/.debian-version" >/dev/null
echo "$index_version" | $SUDO tee "$prefix/.debian-index-version" >/dev/null
log "built postgresql-$major $version into $prefix"
echo "$prefix/bin/pg_config"
