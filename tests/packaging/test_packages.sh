#!/usr/bin/env bash
# Packaging test: builds the Debian packages (packaging/build-deb.sh) and the RPMs
# (packaging/build-rpm.sh), installs the .debs, runs one sync through the
# installed binaries (plugin + extension from postgresql-15-crmsync; crmsync-sender
# and crmsync-mock-crm from crmsync-sender) on a throwaway cluster, purges the
# packages and checks their files are gone, and checks the RPMs' file lists.
#
#   tests/packaging/test_packages.sh         as root (re-runs itself with sudo)
#   JOBS=2 (compile jobs in all), CRMSYNC_PKGTEST_PORT=55499 (the cluster's port,
#   on its own socket directory), CRMSYNC_PKGTEST_PREBUILT=DIR (use the .deb and
#   .rpm files in DIR instead of building: for working on this test).
#
# Leaves the machine as it found it, also on failure: the system cluster is not
# touched; plugin or sender files that were there before (`make install` in CI)
# are saved and put back after the purge; the crmsync user is removed if the
# package created it.
set -euo pipefail
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. tests/lib/cluster.sh

JOBS=${JOBS:-2}
PORT=${CRMSYNC_PKGTEST_PORT:-55499}
PREBUILT=${CRMSYNC_PKGTEST_PREBUILT:-}
PGMAJOR=$("$PG_BIN/pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
EXT_PKG=postgresql-$PGMAJOR-crmsync
SENDER_PKG=crmsync-sender
CRM=pkgtest
TOKEN=pkgtest-token-$RANDOM$RANDOM
START=$SECONDS

WORK=$(mktemp -d /tmp/crmsync-pkgtest.XXXXXX)
chmod 0755 "$WORK"   # the postgres and crmsync users reach their files below it

say() { printf '[pkgtest %3ds] %s\n' $((SECONDS - START)) "$*"; }
fail() { printf '[pkgtest] FAIL: %s\n' "$*" >&2; exit 1; }

# ---- cleanup, on every exit ------------------------------------------------------
sender_pid="" mock_pid="" rpm_pid="" installed_by_us="" user_existed="" etc_existed=""
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
    cluster_stop "$WORK/pg"
    if [ -n "$installed_by_us" ]; then
        rm -f "/etc/crmsync/$CRM.toml" "/etc/crmsync/$CRM.token"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$EXT_PKG" "$SENDER_PKG" >/dev/null 2>&1
    fi
    restore_preexisting
    if [ "$user_existed" = no ] && getent passwd crmsync >/dev/null; then
        userdel crmsync 2>/dev/null
        getent group crmsync >/dev/null && groupdel crmsync 2>/dev/null
    fi
    [ "$etc_existed" = no ] && rmdir /etc/crmsync 2>/dev/null
    if [ $rc -ne 0 ]; then
        for log in "$WORK"/*.log "$WORK/pg/server.log"; do
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

# ---- preconditions -------------------------------------------------------------
for p in "$EXT_PKG" "$SENDER_PKG"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok'; then
        fail "$p is installed on this machine; the test would purge it. Remove it first."
    fi
done
getent passwd crmsync >/dev/null && user_existed=yes || user_existed=no
[ -e /etc/crmsync ] && etc_existed=yes || etc_existed=no
command -v rpmbuild >/dev/null || fail "rpmbuild is missing (apt-get install rpm; tests/install_deps.sh)"

# ---- build: .deb in the foreground, .rpm in the background (one job each) ------
mkdir -p "$WORK/deb" "$WORK/rpm"
if [ -n "$PREBUILT" ]; then
    cp "$PREBUILT"/*.deb "$WORK/deb/"
    cp "$PREBUILT"/*.rpm "$WORK/rpm/"
    say "using prebuilt packages from $PREBUILT"
else
    half=$(((JOBS + 1) / 2))
    say "building .rpm (background, JOBS=$half) and .deb (JOBS=$half)"
    setsid env JOBS=$half packaging/build-rpm.sh "$WORK/rpm" >"$WORK/build-rpm.log" 2>&1 &
    rpm_pid=$!
    JOBS=$half packaging/build-deb.sh "$WORK/deb" >"$WORK/build-deb.log" 2>&1 \
        || fail "packaging/build-deb.sh failed (see build-deb.log below)"
    say "built .deb"
fi
ext_deb=$(ls "$WORK"/deb/${EXT_PKG}_*.deb)
sender_deb=$(ls "$WORK"/deb/${SENDER_PKG}_*.deb)

# ---- the .deb files hold what they should --------------------------------------
pkglibdir=$("$PG_BIN/pg_config" --pkglibdir)
extdir=$("$PG_BIN/pg_config" --sharedir)/extension
deb_files() { dpkg-deb --fsys-tarfile "$1" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/\?$'; }
deb_files "$ext_deb" >"$WORK/ext.files"
deb_files "$sender_deb" >"$WORK/sender.files"
for f in "$pkglibdir/crmsync.so" "$extdir/crmsync.control" "$extdir/crmsync--0.1.0.sql" \
         "/usr/share/doc/$EXT_PKG/README.Debian"; do
    grep -qx "$f" "$WORK/ext.files" || fail "$EXT_PKG lacks $f"
done
for f in /usr/bin/crmsync-sender /usr/bin/crmsync-mock-crm /lib/systemd/system/crmsync-sender@.service \
         /etc/crmsync/example.toml "/usr/share/doc/$SENDER_PKG/README.Debian"; do
    grep -qx "$f" "$WORK/sender.files" || fail "$SENDER_PKG lacks $f"
done
dpkg-deb --ctrl-tarfile "$sender_deb" | tar -xO ./conffiles | grep -qx /etc/crmsync/example.toml \
    || fail "/etc/crmsync/example.toml is not a conffile"
dpkg-deb -f "$ext_deb" Depends | grep -q "postgresql-$PGMAJOR" || fail "$EXT_PKG does not depend on postgresql-$PGMAJOR"
say "package contents ok"

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
save_preexisting $(cat "$WORK/ext.files" "$WORK/sender.files" | grep -vE '^/(usr/share/doc|etc/crmsync$|lib/systemd/system$)' |
    while read -r f; do [ -d "$f" ] || echo "$f"; done)
installed_by_us=yes
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$ext_deb" "$sender_deb" \
    >"$WORK/apt-install.log" 2>&1 || fail "apt-get install of the .deb files failed (apt-install.log)"
dpkg -S "$pkglibdir/crmsync.so" | grep -q "^$EXT_PKG:" || fail "crmsync.so is not owned by $EXT_PKG"
getent passwd crmsync >/dev/null || fail "postinst did not create the crmsync user"
[ "$(stat -c '%U:%G %a' /etc/crmsync)" = "root:crmsync 750" ] \
    || fail "/etc/crmsync is $(stat -c '%U:%G %a' /etc/crmsync), expected root:crmsync 750"
say "installed $(basename "$ext_deb") $(basename "$sender_deb")"

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

# ---- one sync through the installed binaries -----------------------------------
# wal_level = logical and, at first, Postgres' default output_plugin_libraries;
# then crmsync is added with the statement README.Debian gives the DBA.
cluster_start "$WORK/pg" "$PORT" "wal_level = logical" \
    "output_plugin_libraries = 'pgoutput, test_decoding'" || fail "cluster did not start"
psql_() { cluster_psql "$WORK/pg" "$PORT" -d postgres -qAt "$@"; }
readme_sql=$(dpkg-deb --fsys-tarfile "$ext_deb" | tar -xO "./usr/share/doc/$EXT_PKG/README.Debian" |
    grep -o 'ALTER SYSTEM SET output_plugin_libraries = .*;')
[ -n "$readme_sql" ] || fail "README.Debian does not say how to set output_plugin_libraries"
psql_ -c "$readme_sql" -c 'SELECT pg_reload_conf()' >/dev/null
for _ in $(seq 50); do
    [ "$(psql_ -c "SELECT 'crmsync' = ANY (string_to_array(replace(current_setting('output_plugin_libraries'), ' ', ''), ','))")" = t ] && break
    sleep 0.1
done
[ "$(psql_ -c 'SHOW output_plugin_libraries')" = "pgoutput, test_decoding, crmsync" ] \
    || fail "README.Debian's '$readme_sql' gives output_plugin_libraries = $(psql_ -c 'SHOW output_plugin_libraries')"
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
    || fail "CREATE EXTENSION crmsync did not install version 0.1.0"

/usr/bin/crmsync-mock-crm --listen 127.0.0.1:0 --port-file "$WORK/mock.port" --token "$TOKEN" --quiet --latency 0 \
    >/dev/null 2>"$WORK/mock.log" &
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
conninfo = "host=$WORK/pg port=$PORT dbname=postgres user=crmsync"
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
    /usr/bin/crmsync-sender run --config "/etc/crmsync/$CRM.toml" >/dev/null 2>"$WORK/sender.log" &
sender_pid=$!
for _ in $(seq 150); do
    [ "$(psql_ -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'crmsync_$CRM' AND active")" = 1 ] && break
    kill -0 "$sender_pid" 2>/dev/null || fail "crmsync-sender exited (sender.log)"
    sleep 0.2
done
psql_ <<'SQL'
INSERT INTO public.contacts VALUES ('ann@example.com', 'Ann', 1), ('bob@example.com', 'Bob', 2);
INSERT INTO public.contacts VALUES ('poison@example.com', 'POISON', 3);
UPDATE public.contacts SET score = 10 WHERE email = 'ann@example.com';
INSERT INTO public.contacts VALUES ('cy@example.com', 'Cy', 4);
SQL
synced() {
    curl -fsS "$MOCK/_mock/state" | python3 -c '
import json, sys
c = json.load(sys.stdin).get("contacts", {})
want = {"ann@example.com": ("Ann", "10"), "bob@example.com": ("Bob", "2"), "cy@example.com": ("Cy", "4"),
        "dee@example.com": ("Dee", "5")}
ok = all(k in c and c[k].get("firstname") == f and str(c[k].get("score")) == s for k, (f, s) in want.items())
sys.exit(0 if ok and "poison@example.com" not in c else 1)'
}
for _ in $(seq 150); do
    synced && [ "$(psql_ -c 'SELECT count(*) FROM crmsync.dead_letters')" = 1 ] && break
    kill -0 "$sender_pid" 2>/dev/null || fail "crmsync-sender exited (sender.log)"
    sleep 0.2
done
if ! synced; then
    curl -fsS "$MOCK/_mock/state" >&2 || true
    fail "the mock CRM does not hold the rows"
fi
[ "$(psql_ -c "SELECT key FROM crmsync.dead_letters")" = poison@example.com ] \
    || fail "the rejected record is not in crmsync.dead_letters"
[ "$(psql_ -c "SELECT state || ' ' || rows_sent FROM crmsync.backfills WHERE crm = 'pkgtest'")" = "done 1" ] \
    || fail "the initial sync did not finish: $(psql_ -c 'SELECT * FROM crmsync.backfills')"
! grep -q "$TOKEN" "$WORK/sender.log" || fail "the token appears in the sender's log"
kill -TERM "$sender_pid"
rc=0; wait "$sender_pid" || rc=$?
sender_pid=""
[ $rc -eq 0 ] || fail "crmsync-sender exited $rc on SIGTERM, expected 0"
kill -TERM "$mock_pid"; wait "$mock_pid" || true; mock_pid=""
cluster_stop "$WORK/pg"
say "synced through the installed plugin, sender and mock CRM (3 records, 1 dead letter)"

# ---- purge ---------------------------------------------------------------------
rm -f "/etc/crmsync/$CRM.toml" "/etc/crmsync/$CRM.token"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$EXT_PKG" "$SENDER_PKG" >"$WORK/apt-purge.log" 2>&1 \
    || fail "apt-get purge failed (apt-purge.log)"
installed_by_us=""
for p in "$EXT_PKG" "$SENDER_PKG"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok'; then fail "$p is still installed"; fi
done
left=$(cat "$WORK/ext.files" "$WORK/sender.files" | while read -r f; do
    [ -d "$f" ] && continue
    [ -e "$f" ] || [ -L "$f" ] && echo "$f"
done || true)
[ -z "$left" ] || fail "files left after purge: $left"
[ "$etc_existed" = yes ] || [ ! -e /etc/crmsync ] || fail "/etc/crmsync is left after purge"
! dpkg-statoverride --list /etc/crmsync >/dev/null || fail "the statoverride of /etc/crmsync is left after purge"
restore_preexisting
say "purged; no package files left"

# ---- RPM -----------------------------------------------------------------------
if [ -n "$rpm_pid" ]; then
    say "waiting for the .rpm build"
    rc=0; wait "$rpm_pid" || rc=$?
    rpm_pid=""
    [ $rc -eq 0 ] || fail "packaging/build-rpm.sh failed (see build-rpm.log below)"
fi
ext_rpm=$(ls "$WORK"/rpm/crmsync_"$PGMAJOR"-*.rpm 2>/dev/null) || fail "no crmsync_$PGMAJOR .rpm"
sender_rpm=$(ls "$WORK"/rpm/crmsync-sender-*.rpm 2>/dev/null) || fail "no crmsync-sender .rpm"
rpm -qlp "$ext_rpm" >"$WORK/ext.rpmfiles"
rpm -qlp "$sender_rpm" >"$WORK/sender.rpmfiles"
for f in "$pkglibdir/crmsync.so" "$extdir/crmsync.control" "$extdir/crmsync--0.1.0.sql"; do
    grep -qx "$f" "$WORK/ext.rpmfiles" || fail "$(basename "$ext_rpm") lacks $f"
done
for f in /usr/bin/crmsync-sender /usr/bin/crmsync-mock-crm /usr/lib/systemd/system/crmsync-sender@.service \
         /etc/crmsync /etc/crmsync/example.toml; do
    grep -qx "$f" "$WORK/sender.rpmfiles" || fail "$(basename "$sender_rpm") lacks $f"
done
rpm -qp --requires "$ext_rpm" | grep -qx "postgresql$PGMAJOR-server" || fail "crmsync_$PGMAJOR does not require postgresql$PGMAJOR-server"
rpm -qp --scripts "$sender_rpm" | grep -q 'useradd -r' || fail "crmsync-sender.rpm does not create the crmsync user"
say "rpm ok: $(basename "$ext_rpm") $(basename "$sender_rpm")"
say "packaging test passed in $((SECONDS - START))s"
