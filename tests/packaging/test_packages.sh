#!/usr/bin/env bash
# Packaging test, on every PostgreSQL major at hand: builds the Debian packages
# (packaging/build-deb.sh: postgresql-<major>-crmsync for each major, crmsync-sender) and
# the RPMs (packaging/build-rpm.sh: crmsync_<major>, crmsync-sender), installs the .debs,
# runs one sync per major through the installed binaries (plugin + extension from
# postgresql-<major>-crmsync; crmsync-sender and crmsync-mock-crm from crmsync-sender) on a
# throwaway cluster of that major, purges the packages and checks their files are gone,
# and checks the RPMs' file lists.
#
# The majors: 15 is Debian 12's postgresql-15. 17 and 18 have no Debian 12 package; when
# tests/install_postgres.sh has built them (CI's majors step runs before this one), their
# tree in its cache is made into a local package postgresql-<major> (dpkg-deb, installed for
# the test and purged afterwards), so that pg_buildext finds /usr/lib/postgresql/<major> as
# with Debian's own packages and postgresql-<major>-crmsync's dependency is met. A major
# that is not in the cache is left out, and the test says so.
#
#   tests/packaging/test_packages.sh         as root (re-runs itself with sudo)
#   JOBS=2 (compile jobs in all)
#   CRMSYNC_PKGTEST_MAJORS="15 17"   test exactly these, each one required (default: those of
#       packaging/debian/pgversions that are installed or cached, the others skipped)
#   CRMSYNC_PKGTEST_PORT=55499 (15's cluster port; 17's is 55517, 18's 55518: 55500 + major),
#       each cluster on its own socket directory
#   CRMSYNC_PG_CACHE=/var/cache/crmsync-postgres (where tests/install_postgres.sh keeps 17, 18)
#   CRMSYNC_PKGTEST_PREBUILT=DIR (use the .deb and .rpm files in DIR instead of building:
#       for working on this test)
#
# Leaves the machine as it found it, also on failure: the system cluster is not
# touched; plugin or sender files that were there before (`make install` in CI)
# are saved and put back after the purge; the local postgresql-<major> packages are
# purged; the crmsync user is removed if the package created it.
set -euo pipefail
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. tests/lib/cluster.sh

JOBS=${JOBS:-2}
PORT15=${CRMSYNC_PKGTEST_PORT:-55499}
PREBUILT=${CRMSYNC_PKGTEST_PREBUILT:-}
PG_CACHE=${CRMSYNC_PG_CACHE:-/var/cache/crmsync-postgres}
REQUIRED_MAJORS=${CRMSYNC_PKGTEST_MAJORS:-}
SENDER_PKG=crmsync-sender
CRM=pkgtest
TOKEN=pkgtest-token-$RANDOM$RANDOM
START=$SECONDS

WORK=$(mktemp -d /tmp/crmsync-pkgtest.XXXXXX)
chmod 0755 "$WORK"   # the postgres and crmsync users reach their files below it

say() { printf '[pkgtest %3ds] %s\n' $((SECONDS - START)) "$*"; }
fail() { printf '[pkgtest] FAIL: %s\n' "$*" >&2; exit 1; }
port_of() { if [ "$1" = 15 ]; then echo "$PORT15"; else echo $((55500 + $1)); fi; }
ext_pkg() { echo "postgresql-$1-crmsync"; }

# ---- cleanup, on every exit ------------------------------------------------------
sender_pid="" mock_pid="" rpm_pid="" installed_by_us="" user_existed="" etc_existed=""
majors=()          # the majors tested
local_servers=()   # of them, those installed here as a local postgresql-<major> package
servers_installed=""
cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    for pid in $sender_pid $mock_pid; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ -n "$rpm_pid" ] && kill -0 "$rpm_pid" 2>/dev/null; then
        kill -TERM -- -"$rpm_pid" 2>/dev/null || kill -TERM "$rpm_pid" 2>/dev/null
        wait "$rpm_pid" 2>/dev/null
    fi
    local m
    for m in "${majors[@]}"; do
        [ -x "/usr/lib/postgresql/$m/bin/pg_ctl" ] && PG_BIN=/usr/lib/postgresql/$m/bin cluster_stop "$WORK/pg-$m"
    done
    if [ -n "$installed_by_us" ]; then
        rm -f "/etc/crmsync/$CRM.toml" "/etc/crmsync/$CRM.token"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $(for m in "${majors[@]}"; do ext_pkg "$m"; done) "$SENDER_PKG" \
            >/dev/null 2>&1
    fi
    if [ -n "$servers_installed" ]; then
        dpkg --purge $(for m in "${local_servers[@]}"; do echo "postgresql-$m"; done) >/dev/null 2>&1
    fi
    restore_preexisting
    if [ "$user_existed" = no ] && getent passwd crmsync >/dev/null; then
        userdel crmsync 2>/dev/null
        getent group crmsync >/dev/null && groupdel crmsync 2>/dev/null
    fi
    [ "$etc_existed" = no ] && rmdir /etc/crmsync 2>/dev/null
    if [ $rc -ne 0 ]; then
        for log in "$WORK"/*.log "$WORK"/pg-*/server.log; do
            [ -s "$log" ] && { echo "---- $log (tail)"; tail -n 30 "$log"; } >&2
        done
        echo "[pkgtest] FAILED after $((SECONDS - START))s" >&2
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Files the packages would replace that are there now, unowned (make install):
# saved before the install, put back after the purge.
save_preexisting() {
    local f
    : >"$WORK/preexisting.list"
    for f in "$@"; do
        if [ -e "$f" ] && ! dpkg -S "$f" >/dev/null 2>&1; then echo "$f" >>"$WORK/preexisting.list"; fi
    done
    if [ -s "$WORK/preexisting.list" ]; then
        tar -C / -cpf "$WORK/preexisting.tar" $(sed 's|^/||' "$WORK/preexisting.list")
        say "saved $(wc -l <"$WORK/preexisting.list") pre-existing file(s) (make install) to put back afterwards"
    fi
}
restore_preexisting() {
    if [ -s "$WORK/preexisting.tar" ]; then
        tar -C / -xpf "$WORK/preexisting.tar" && rm -f "$WORK/preexisting.tar"
    fi
}

# ---- which majors ------------------------------------------------------------
# Why a tree in the cache cannot be laid at / as postgresql-<major>; nothing when it can.
cache_problem() {
    local m=$1 tree=$PG_CACHE/$1 f
    [ -s "$tree/.debian-version" ] || { echo "$tree holds no finished build"; return; }
    for f in pg_config postgres initdb pg_ctl psql; do
        [ -x "$tree/usr/lib/postgresql/$m/bin/$f" ] || { echo "$tree/usr/lib/postgresql/$m/bin/$f is missing"; return; }
    done
    [ -f "$tree/usr/include/postgresql/$m/server/postgres.h" ] ||
        { echo "$tree has no server headers in usr/include/postgresql/$m/server (an older layout: rebuild it)"; return; }
    [ -d "$tree/usr/share/postgresql/$m/extension" ] || { echo "$tree/usr/share/postgresql/$m/extension is missing"; return; }
    "$tree/usr/lib/postgresql/$m/bin/pg_config" --version | grep -q "^PostgreSQL $m\." ||
        { echo "$tree/usr/lib/postgresql/$m/bin/pg_config is not of PostgreSQL $m"; return; }
    # At / its programs must load this major's libpq, not bookworm's: the run path says where.
    readelf -d "$tree/usr/lib/postgresql/$m/bin/psql" | grep -q "/usr/lib/postgresql/$m/lib" ||
        { echo "its psql's run path does not name /usr/lib/postgresql/$m/lib (an older layout: rebuild it)"; return; }
    for f in "/usr/lib/postgresql/$m" "/usr/share/postgresql/$m" "/usr/include/postgresql/$m"; do
        [ ! -e "$f" ] || { echo "$f exists already: the test lays no package over it"; return; }
    done
}

skipped=()
for m in ${REQUIRED_MAJORS:-$(grep -E '^[0-9]+$' packaging/debian/pgversions)}; do
    grep -qx "$m" packaging/debian/pgversions || fail "PostgreSQL $m is not in packaging/debian/pgversions ($(xargs <packaging/debian/pgversions))"
    bin=/usr/lib/postgresql/$m/bin
    if [ -x "$bin/pg_config" ] && [ -x "$bin/postgres" ] && owner=$(dpkg -S "$bin/postgres" 2>/dev/null); then
        majors+=("$m")
        say "PostgreSQL $m: installed (${owner%%:*})"
        continue
    fi
    problem=$(cache_problem "$m")
    if [ -z "$problem" ]; then
        majors+=("$m")
        local_servers+=("$m")
        say "PostgreSQL $m: from $PG_CACHE/$m ($(cat "$PG_CACHE/$m/.debian-version")), as a local package postgresql-$m"
    elif [ -n "$REQUIRED_MAJORS" ]; then
        fail "PostgreSQL $m (CRMSYNC_PKGTEST_MAJORS) is not at hand: not installed, and $problem; tests/install_postgres.sh $m provides it"
    else
        skipped+=("$m")
        say "PostgreSQL $m: left out: not installed, and $problem (tests/install_postgres.sh $m provides it)"
    fi
done
[ ${#majors[@]} -gt 0 ] || fail "no PostgreSQL major to test: expected Debian's postgresql-15 (tests/install_deps.sh)"

# ---- preconditions -------------------------------------------------------------
for p in $(for m in "${majors[@]}"; do ext_pkg "$m"; done) "$SENDER_PKG"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok'; then
        fail "$p is installed on this machine; the test would purge it. Remove it first."
    fi
done
getent passwd crmsync >/dev/null && user_existed=yes || user_existed=no
[ -e /etc/crmsync ] && etc_existed=yes || etc_existed=no
command -v rpmbuild >/dev/null || fail "rpmbuild is missing (apt-get install rpm; tests/install_deps.sh)"

# ---- local postgresql-<major> packages from the cache ----------------------------
# Only the major's own directories, as Debian's postgresql-<major> and
# postgresql-server-dev-<major> lay them out; not the client headers directly in
# usr/include/postgresql (libpq-dev's). No maintainer scripts: the test makes its own
# clusters. Uncompressed: built and installed once, ~100 MB.
if [ ${#local_servers[@]} -gt 0 ]; then
    arch=$(dpkg --print-architecture)
    for m in "${local_servers[@]}"; do
        stage="$WORK/server-$m"
        mkdir -p "$stage/DEBIAN"
        tar -C "$PG_CACHE/$m" -cf - "usr/lib/postgresql/$m" "usr/share/postgresql/$m" "usr/include/postgresql/$m" |
            tar -C "$stage" -xf -
        # tests/run_majors.sh installs the plugin into the cached tree: those files are
        # postgresql-<major>-crmsync's.
        find "$stage" \( -name crmsync.so -o -name crmsync.control -o -name 'crmsync--*.sql' \) -delete
        cat >"$stage/DEBIAN/control" <<EOF
Package: postgresql-$m
Version: $(cat "$PG_CACHE/$m/.debian-version")+crmsync.pkgtest
Architecture: $arch
Section: database
Priority: optional
Maintainer: crmsync packaging test <eng@crmsync.dev>
Description: PostgreSQL $m server, local build for crmsync's packaging test
 Debian's source package postgresql-$m built by tests/install_postgres.sh (server,
 server headers, PGXS); installed and purged by tests/packaging/test_packages.sh.
EOF
        dpkg-deb --root-owner-group -Znone --build "$stage" "$WORK/postgresql-$m.deb" >/dev/null ||
            fail "dpkg-deb could not build postgresql-$m from $PG_CACHE/$m"
        rm -rf "$stage"
    done
    servers_installed=yes
    dpkg -i $(for m in "${local_servers[@]}"; do echo "$WORK/postgresql-$m.deb"; done) >"$WORK/dpkg-servers.log" 2>&1 ||
        fail "dpkg -i of the local postgresql-<major> packages failed (dpkg-servers.log)"
    for m in "${local_servers[@]}"; do
        [ "$(/usr/lib/postgresql/$m/bin/pg_config --sharedir)" = "/usr/share/postgresql/$m" ] ||
            fail "postgresql-$m at /: pg_config --sharedir says $(/usr/lib/postgresql/$m/bin/pg_config --sharedir), expected /usr/share/postgresql/$m"
    done
    say "installed the local packages $(for m in "${local_servers[@]}"; do echo "postgresql-$m"; done | xargs)"
fi

# ---- build: .deb in the foreground, .rpm in the background (one job each) ------
mkdir -p "$WORK/deb" "$WORK/rpm"
if [ -n "$PREBUILT" ]; then
    cp "$PREBUILT"/*.deb "$WORK/deb/"
    cp "$PREBUILT"/*.rpm "$WORK/rpm/"
    say "using prebuilt packages from $PREBUILT"
else
    half=$(((JOBS + 1) / 2))
    say "building .rpm (background, JOBS=$half) and .deb (JOBS=$half) for PostgreSQL ${majors[*]}"
    setsid env JOBS=$half PG_MAJORS="${majors[*]}" packaging/build-rpm.sh "$WORK/rpm" >"$WORK/build-rpm.log" 2>&1 &
    rpm_pid=$!
    JOBS=$half PG_MAJORS="${majors[*]}" packaging/build-deb.sh "$WORK/deb" >"$WORK/build-deb.log" 2>&1 \
        || fail "packaging/build-deb.sh failed (see build-deb.log below)"
    say "built .deb"
fi

# ---- the .deb files hold what they should --------------------------------------
deb_files() { dpkg-deb --fsys-tarfile "$1" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/\?$'; }
ext_debs=()
for m in "${majors[@]}"; do
    pkg=$(ext_pkg "$m")
    deb=$(ls "$WORK"/deb/${pkg}_*.deb 2>/dev/null) || fail "no $pkg .deb was built (PostgreSQL $m is at hand)"
    ext_debs+=("$deb")
    deb_files "$deb" >"$WORK/ext-$m.files"
    # Debian's paths of that major, whatever pg_config says.
    for f in "/usr/lib/postgresql/$m/lib/crmsync.so" "/usr/share/postgresql/$m/extension/crmsync.control" \
             "/usr/share/postgresql/$m/extension/crmsync--0.1.0.sql" "/usr/share/doc/$pkg/README.Debian"; do
        grep -qx "$f" "$WORK/ext-$m.files" || fail "$pkg lacks $f"
    done
    other=$(grep -E '^/usr/(lib|share)/postgresql/[0-9]+/' "$WORK/ext-$m.files" | grep -vE "^/usr/(lib|share)/postgresql/$m/" || true)
    [ -z "$other" ] || fail "$pkg holds files of another major: $other"
    dpkg-deb -f "$deb" Depends | grep -qE "(^|, )postgresql-$m( |,|$)" ||
        fail "$pkg does not depend on postgresql-$m: $(dpkg-deb -f "$deb" Depends)"
    say "$pkg depends on: $(dpkg-deb -f "$deb" Depends)"
done
sender_deb=$(ls "$WORK"/deb/${SENDER_PKG}_*.deb)
deb_files "$sender_deb" >"$WORK/sender.files"
for f in /usr/bin/crmsync-sender /usr/bin/crmsync-mock-crm /lib/systemd/system/crmsync-sender@.service \
         /etc/crmsync/example.toml "/usr/share/doc/$SENDER_PKG/README.Debian"; do
    grep -qx "$f" "$WORK/sender.files" || fail "$SENDER_PKG lacks $f"
done
dpkg-deb --ctrl-tarfile "$sender_deb" | tar -xO ./conffiles | grep -qx /etc/crmsync/example.toml \
    || fail "/etc/crmsync/example.toml is not a conffile"
# The sender links bookworm's libpq: built while 17/18 lie in /usr/lib/postgresql, it must
# not have picked up (and come to depend on) a server package's.
! dpkg-deb -f "$sender_deb" Depends | grep -qE 'postgresql-[0-9]+' ||
    fail "$SENDER_PKG depends on a PostgreSQL server package: $(dpkg-deb -f "$sender_deb" Depends); expected libpq5"
dpkg-deb -f "$sender_deb" Depends | grep -q libpq5 || fail "$SENDER_PKG does not depend on libpq5: $(dpkg-deb -f "$sender_deb" Depends)"
say "package contents ok: $(for d in "${ext_debs[@]}" "$sender_deb"; do basename "$d"; done | xargs)"

# Every config key of every section (sender/core/config.cpp, config_keys()) is documented in the example.
grep -oE '\{"[a-z]+", "[a-z_]+", Kind::' sender/core/config.cpp |
    sed -E 's/\{"([a-z]+)", "([a-z_]+)".*/\1 \2/' >"$WORK/config.keys"
[ "$(wc -l <"$WORK/config.keys")" -ge 15 ] || fail "could not read the config keys from sender/core/config.cpp"
while read -r section key; do
    awk -v s="[$section]" -v k="$key" '
        /^\[/ { in_s = ($0 == s) }
        in_s && $0 ~ "^#?" k " *=" { found = 1 }
        END { exit !found }' packaging/examples/hubspot.toml || fail "packaging/examples/hubspot.toml lacks [$section] $key"
done <"$WORK/config.keys"

# ---- install -------------------------------------------------------------------
save_preexisting $(cat "$WORK"/ext-*.files "$WORK/sender.files" | grep -vE '^/(usr/share/doc|etc/crmsync$|lib/systemd/system$)' |
    while read -r f; do [ -d "$f" ] || echo "$f"; done)
installed_by_us=yes
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${ext_debs[@]}" "$sender_deb" \
    >"$WORK/apt-install.log" 2>&1 || fail "apt-get install of the .deb files failed (apt-install.log)"
for m in "${majors[@]}"; do
    dpkg -S "/usr/lib/postgresql/$m/lib/crmsync.so" | grep -q "^$(ext_pkg "$m"):" ||
        fail "/usr/lib/postgresql/$m/lib/crmsync.so is not owned by $(ext_pkg "$m")"
done
getent passwd crmsync >/dev/null || fail "postinst did not create the crmsync user"
[ "$(stat -c '%U:%G %a' /etc/crmsync)" = "root:crmsync 750" ] \
    || fail "/etc/crmsync is $(stat -c '%U:%G %a' /etc/crmsync), expected root:crmsync 750"
say "installed $(for d in "${ext_debs[@]}" "$sender_deb"; do basename "$d"; done | xargs)"

# The unit file: systemd's own checker, on an instance (no systemd needs to run).
if command -v systemd-analyze >/dev/null; then
    cp /lib/systemd/system/crmsync-sender@.service "$WORK/crmsync-sender@$CRM.service"
    if ! systemd-analyze verify --man=no "$WORK/crmsync-sender@$CRM.service" >"$WORK/unit-verify.log" 2>&1 ||
        grep -q "crmsync-sender@" "$WORK/unit-verify.log"; then
        cat "$WORK/unit-verify.log" >&2
        fail "systemd-analyze verify reports problems in crmsync-sender@.service"
    fi
else
    say "systemd-analyze is not installed (package systemd): unit file not verified"
fi
grep -q '^Environment=CRMSYNC_TARGET_TOKEN_FILE=%d/token$' /lib/systemd/system/crmsync-sender@.service \
    || fail "the unit does not point token_file at its credential"

# The example config parses (as the crmsync user, through /etc/crmsync 0750): with
# the token where the unit puts it, `check` fails on Postgres/the CRM (1), not on
# the configuration (2).
mkdir -p "$WORK/credentials"
printf '%s\n' "$TOKEN" >"$WORK/credentials/token"
chown -R crmsync:crmsync "$WORK/credentials"
chmod 0500 "$WORK/credentials"
chmod 0400 "$WORK/credentials/token"
set +e
timeout 60 setpriv --reuid=crmsync --regid=crmsync --init-groups -- env -i PATH=/usr/bin:/bin \
    CRMSYNC_TARGET_TOKEN_FILE="$WORK/credentials/token" CRMSYNC_TARGET_TIMEOUT_MS=2000 \
    CRMSYNC_SOURCE_CONNINFO="host=$WORK/nonexistent dbname=app connect_timeout=2" \
    /usr/bin/crmsync-sender check --config /etc/crmsync/example.toml >"$WORK/check-example.log" 2>&1
rc=$?
set -e
if [ $rc -eq 2 ] || grep -q 'problem(s)' "$WORK/check-example.log"; then
    cat "$WORK/check-example.log" >&2
    fail "/etc/crmsync/example.toml has configuration errors (crmsync-sender check exit $rc)"
fi
[ $rc -eq 1 ] || fail "crmsync-sender check with no Postgres exited $rc, expected 1"
say "example.toml parses; the unit file verifies"

# ---- one sync per major through the installed binaries -------------------------
# On a throwaway cluster of that major (its own port and socket directory), started from
# /usr/lib/postgresql/<major>/bin: wal_level = logical and, at first, Postgres' default
# output_plugin_libraries; then crmsync is added with the statement README.Debian gives
# the DBA. The sender and mock CRM are the installed ones; the CRM must end up holding
# exactly the table's rows (but the one it rejects, which is dead-lettered).
sync_on() {
    local m=$1 port dir readme_sql rc
    port=$(port_of "$m")
    dir="$WORK/pg-$m"
    PG_BIN=/usr/lib/postgresql/$m/bin   # tests/lib/cluster.sh's functions use it
    cluster_start "$dir" "$port" "wal_level = logical" \
        "output_plugin_libraries = 'pgoutput, test_decoding'" || fail "the PostgreSQL $m cluster did not start"
    psql_() { cluster_psql "$dir" "$port" -d postgres -qAt "$@"; }
    [ "$(psql_ -c 'SHOW server_version_num')" -ge $((m * 10000)) ] && [ "$(psql_ -c 'SHOW server_version_num')" -lt $(((m + 1) * 10000)) ] ||
        fail "the cluster from /usr/lib/postgresql/$m/bin runs PostgreSQL $(psql_ -c 'SHOW server_version'), expected $m"
    readme_sql=$(dpkg-deb --fsys-tarfile "$WORK"/deb/$(ext_pkg "$m")_*.deb | tar -xO "./usr/share/doc/$(ext_pkg "$m")/README.Debian" |
        grep -o 'ALTER SYSTEM SET output_plugin_libraries = .*;')
    [ -n "$readme_sql" ] || fail "README.Debian of $(ext_pkg "$m") does not say how to set output_plugin_libraries"
    psql_ -c "$readme_sql" -c 'SELECT pg_reload_conf()' >/dev/null
    for _ in $(seq 50); do
        [ "$(psql_ -c "SELECT 'crmsync' = ANY (string_to_array(replace(current_setting('output_plugin_libraries'), ' ', ''), ','))")" = t ] && break
        sleep 0.1
    done
    [ "$(psql_ -c 'SHOW output_plugin_libraries')" = "pgoutput, test_decoding, crmsync" ] \
        || fail "README.Debian's '$readme_sql' gives output_plugin_libraries = $(psql_ -c 'SHOW output_plugin_libraries') on PostgreSQL $m"
    psql_ >/dev/null <<'SQL'
CREATE EXTENSION crmsync;
CREATE TABLE public.contacts (email text PRIMARY KEY, first_name text, score int);
SELECT crmsync.map('pkgtest', 'public.contacts', 'contacts', 'email',
                   properties => '{"email":"email","first_name":"firstname","score":"score"}');
-- There before the sender: its initial sync sends it.
INSERT INTO public.contacts VALUES ('dee@example.com', 'Dee', 5);
-- The sender's role, with exactly the grants README.Debian gives it.
CREATE ROLE crmsync LOGIN REPLICATION;
GRANT USAGE ON SCHEMA crmsync TO crmsync;
GRANT SELECT ON ALL TABLES IN SCHEMA crmsync TO crmsync;
GRANT INSERT ON crmsync.dead_letters TO crmsync;
GRANT USAGE ON SEQUENCE crmsync.dead_letters_id_seq TO crmsync;
GRANT INSERT, UPDATE ON crmsync.backfills TO crmsync;
GRANT SELECT ON public.contacts TO crmsync;  -- each mapped table (backfill)
SQL
    [ "$(psql_ -c "SELECT extversion FROM pg_extension WHERE extname = 'crmsync'")" = 0.1.0 ] \
        || fail "CREATE EXTENSION crmsync did not install version 0.1.0 on PostgreSQL $m"
    # The library the server loads is the package's.
    [ "$(psql_ -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")" = "/usr/lib/postgresql/$m/lib" ] \
        || fail "PostgreSQL $m's PKGLIBDIR is $(psql_ -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'"), expected /usr/lib/postgresql/$m/lib"

    rm -f "$WORK/mock.port"
    /usr/bin/crmsync-mock-crm --listen 127.0.0.1:0 --port-file "$WORK/mock.port" --token "$TOKEN" --quiet --latency 0 \
        >/dev/null 2>"$WORK/mock-$m.log" &
    mock_pid=$!
    for _ in $(seq 100); do [ -s "$WORK/mock.port" ] && break; sleep 0.1; done
    [ -s "$WORK/mock.port" ] || fail "crmsync-mock-crm did not start"
    MOCK="http://127.0.0.1:$(cat "$WORK/mock.port")"
    # A record with this value is rejected (400): the sender dead-letters it.
    curl -fsS -X POST -H 'Content-Type: application/json' -d '{"reject_value":"POISON"}' "$MOCK/_mock/faults" >/dev/null
    # "score" is a custom property: created in HubSpot before syncing, as a user would.
    curl -fsS -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
        -d '{"name":"score","label":"Score","type":"number","fieldType":"number","groupName":"contactinformation"}' \
        "$MOCK/crm/v3/properties/contacts" >/dev/null || fail "could not create the HubSpot property score in the mock"

    # As under crmsync-sender@pkgtest.service: the config in /etc/crmsync, the token
    # root-only next to it, the sender as the crmsync user reading its credential copy.
    install -m 0640 -o root -g crmsync /dev/stdin "/etc/crmsync/$CRM.toml" <<EOF
[source]
conninfo = "host=$dir port=$port dbname=postgres user=crmsync"
crm = "$CRM"
create_slot = true

[target]
format = "hubspot"
url = "$MOCK"
token_file = "/etc/crmsync/$CRM.token"
timeout_ms = 5000

[delivery]
linger_ms = 5
drain_timeout_ms = 5000

[metrics]
listen = ""
EOF
    install -m 0600 -o root -g root /dev/stdin "/etc/crmsync/$CRM.token" <<<"$TOKEN"
    setpriv --reuid=crmsync --regid=crmsync --init-groups -- env -i PATH=/usr/bin:/bin \
        CRMSYNC_TARGET_TOKEN_FILE="$WORK/credentials/token" \
        /usr/bin/crmsync-sender run --config "/etc/crmsync/$CRM.toml" >/dev/null 2>"$WORK/sender-$m.log" &
    sender_pid=$!
    for _ in $(seq 150); do
        [ "$(psql_ -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'crmsync_$CRM' AND active")" = 1 ] && break
        kill -0 "$sender_pid" 2>/dev/null || fail "crmsync-sender exited on PostgreSQL $m (sender-$m.log)"
        sleep 0.2
    done
    psql_ <<'SQL'
INSERT INTO public.contacts VALUES ('ann@example.com', 'Ann', 1), ('bob@example.com', 'Bob', 2);
INSERT INTO public.contacts VALUES ('poison@example.com', 'POISON', 3);
UPDATE public.contacts SET score = 10 WHERE email = 'ann@example.com';
INSERT INTO public.contacts VALUES ('cy@example.com', 'Cy', 4);
SQL
    # The rows the CRM must hold: the table's, but the rejected one.
    local want
    want=$(psql_ -c "SELECT json_object_agg(email, json_build_array(first_name, score::text) ORDER BY email)
                     FROM public.contacts WHERE first_name <> 'POISON'")
    synced() {
        curl -fsS "$MOCK/_mock/state" | WANT="$want" python3 -c '
import json, os, sys
want = json.loads(os.environ["WANT"])
c = json.load(sys.stdin).get("contacts", {})
have = {k: [v.get("firstname"), str(v.get("score"))] for k, v in c.items()}
sys.exit(0 if have == want and len(want) == 4 else 1)'
    }
    for _ in $(seq 150); do
        synced && [ "$(psql_ -c 'SELECT count(*) FROM crmsync.dead_letters')" = 1 ] && break
        kill -0 "$sender_pid" 2>/dev/null || fail "crmsync-sender exited on PostgreSQL $m (sender-$m.log)"
        sleep 0.2
    done
    if ! synced; then
        echo "table: $want" >&2
        echo -n "CRM:   " >&2; curl -fsS "$MOCK/_mock/state" >&2 || true
        fail "on PostgreSQL $m the mock CRM does not hold the table's rows (4, without the rejected one)"
    fi
    [ "$(psql_ -c "SELECT key FROM crmsync.dead_letters")" = poison@example.com ] \
        || fail "on PostgreSQL $m the rejected record is not in crmsync.dead_letters"
    [ "$(psql_ -c "SELECT state || ' ' || rows_sent FROM crmsync.backfills WHERE crm = 'pkgtest'")" = "done 1" ] \
        || fail "on PostgreSQL $m the initial sync did not finish: $(psql_ -c 'SELECT * FROM crmsync.backfills')"
    ! grep -q "$TOKEN" "$WORK/sender-$m.log" || fail "the token appears in the sender's log"
    kill -TERM "$sender_pid"
    rc=0; wait "$sender_pid" || rc=$?
    sender_pid=""
    [ $rc -eq 0 ] || fail "crmsync-sender exited $rc on SIGTERM on PostgreSQL $m, expected 0"
    kill -TERM "$mock_pid"; wait "$mock_pid" || true; mock_pid=""
    cluster_stop "$dir"
    say "PostgreSQL $m: synced through the installed plugin, sender and mock CRM (4 rows as in the table, 1 dead letter)"
}
for m in "${majors[@]}"; do sync_on "$m"; done

# ---- purge ---------------------------------------------------------------------
# The .rpm build compiles against the local postgresql-<major> packages: it ends first.
if [ -n "$rpm_pid" ]; then
    say "waiting for the .rpm build"
    rc=0; wait "$rpm_pid" || rc=$?
    rpm_pid=""
    [ $rc -eq 0 ] || fail "packaging/build-rpm.sh failed (see build-rpm.log below)"
fi
rm -f "/etc/crmsync/$CRM.toml" "/etc/crmsync/$CRM.token"
ext_pkgs=$(for m in "${majors[@]}"; do ext_pkg "$m"; done)
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $ext_pkgs "$SENDER_PKG" >"$WORK/apt-purge.log" 2>&1 \
    || fail "apt-get purge failed (apt-purge.log)"
installed_by_us=""
for p in $ext_pkgs "$SENDER_PKG"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok'; then fail "$p is still installed"; fi
done
left=$(cat "$WORK"/ext-*.files "$WORK/sender.files" | while read -r f; do
    [ -d "$f" ] && continue
    [ -e "$f" ] || [ -L "$f" ] && echo "$f"
done || true)
[ -z "$left" ] || fail "files left after purge: $left"
[ "$etc_existed" = yes ] || [ ! -e /etc/crmsync ] || fail "/etc/crmsync is left after purge"
! dpkg-statoverride --list /etc/crmsync >/dev/null || fail "the statoverride of /etc/crmsync is left after purge"
restore_preexisting
if [ -n "$servers_installed" ]; then
    dpkg --purge $(for m in "${local_servers[@]}"; do echo "postgresql-$m"; done) >"$WORK/dpkg-purge-servers.log" 2>&1 ||
        fail "dpkg --purge of the local postgresql-<major> packages failed (dpkg-purge-servers.log)"
    servers_installed=""
    for m in "${local_servers[@]}"; do
        for d in "/usr/lib/postgresql/$m" "/usr/share/postgresql/$m" "/usr/include/postgresql/$m"; do
            [ ! -e "$d" ] || fail "$d is left after purging the local postgresql-$m: $(find "$d" | head -5 | xargs)"
        done
    done
fi
say "purged; no package files left"

# ---- RPM -----------------------------------------------------------------------
# PGDG's names and paths: crmsync_<major> with /usr/pgsql-<major>/..., whatever pg_config
# compiled it.
ext_rpms=()
for m in "${majors[@]}"; do
    ext_rpm=$(ls "$WORK"/rpm/crmsync_"$m"-*.rpm 2>/dev/null) || fail "no crmsync_$m .rpm (PostgreSQL $m is at hand)"
    ext_rpms+=("$ext_rpm")
    rpm -qlp "$ext_rpm" >"$WORK/ext-$m.rpmfiles"
    for f in "/usr/pgsql-$m/lib/crmsync.so" "/usr/pgsql-$m/share/extension/crmsync.control" \
             "/usr/pgsql-$m/share/extension/crmsync--0.1.0.sql"; do
        grep -qx "$f" "$WORK/ext-$m.rpmfiles" || fail "$(basename "$ext_rpm") lacks $f; it has: $(grep -v ^/usr/share/doc "$WORK/ext-$m.rpmfiles" | xargs)"
    done
    # (rpmbuild adds /usr/lib/.build-id links to the ELF files, as in PGDG's packages)
    other=$(grep -vE "^(/usr/pgsql-$m/|/usr/share/doc/|/usr/lib/\.build-id(/|\$))" "$WORK/ext-$m.rpmfiles" || true)
    [ -z "$other" ] || fail "$(basename "$ext_rpm") holds files outside /usr/pgsql-$m: $other"
    rpm -qp --requires "$ext_rpm" | grep -qx "postgresql$m-server" || fail "crmsync_$m does not require postgresql$m-server"
done
sender_rpms=("$WORK"/rpm/crmsync-sender-*.rpm)
[ -e "${sender_rpms[0]}" ] && [ ${#sender_rpms[@]} = 1 ] ||
    fail "expected one crmsync-sender .rpm (built with the first major only), found: $(ls "$WORK/rpm" | xargs)"
sender_rpm=${sender_rpms[0]}
rpm -qlp "$sender_rpm" >"$WORK/sender.rpmfiles"
for f in /usr/bin/crmsync-sender /usr/bin/crmsync-mock-crm /usr/lib/systemd/system/crmsync-sender@.service \
         /etc/crmsync /etc/crmsync/example.toml; do
    grep -qx "$f" "$WORK/sender.rpmfiles" || fail "$(basename "$sender_rpm") lacks $f"
done
rpm -qp --scripts "$sender_rpm" | grep -q 'useradd -r' || fail "crmsync-sender.rpm does not create the crmsync user"
say "rpm ok: $(for r in "${ext_rpms[@]}" "$sender_rpm"; do basename "$r"; done | xargs)"
if [ ${#skipped[@]} -gt 0 ]; then
    say "packaging test passed on PostgreSQL ${majors[*]} in $((SECONDS - START))s; NOT covered: ${skipped[*]} (not built: tests/install_postgres.sh)"
else
    say "packaging test passed on PostgreSQL ${majors[*]} in $((SECONDS - START))s"
fi
