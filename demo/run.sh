#!/usr/bin/env bash
# crmsync demo on its embedded default: a throwaway Postgres 15 cluster with a small
# CRM-like schema, mapped to a CRM, and a live view of what the output plugin streams.
# Cleans up after itself, also on Ctrl-C. Run as root or with sudo.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
FORMAT=${FORMAT:-hubspot}
PORT=${PORT:-55499}
WORK=$(mktemp -d /tmp/crmsync-demo.XXXXXX)
chmod 755 "$WORK"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

cleanup() {
    set +e
    [ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null
    cluster_stop "$WORK/pg"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== installing what the demo needs (Debian packages, then crmsync's plugin)"
tests/install_deps.sh
make -s -j2 >/dev/null
$SUDO make -s install >/dev/null

source tests/lib/cluster.sh
echo "== starting a throwaway Postgres 15 cluster in $WORK/pg (port $PORT)"
cluster_start "$WORK/pg" "$PORT"
psql_demo() { cluster_psql "$WORK/pg" "$PORT" -q "$@"; }

psql_demo <<'SQL'
CREATE EXTENSION crmsync;
CREATE TABLE companies (id bigint PRIMARY KEY, domain text UNIQUE NOT NULL, name text, employees int);
CREATE TABLE contacts (id bigint PRIMARY KEY, email text UNIQUE NOT NULL, first_name text, last_name text,
                       company_id bigint REFERENCES companies, lifecycle text, updated_at timestamptz DEFAULT now());
ALTER TABLE contacts REPLICA IDENTITY USING INDEX contacts_email_key;
CREATE TABLE deals (id bigint PRIMARY KEY, name text, amount numeric(12,2), stage text, close_date date,
                    contact_id bigint REFERENCES contacts);
-- Keyed by domain: deletes must carry it, so it is the replica identity.
ALTER TABLE companies REPLICA IDENTITY USING INDEX companies_domain_key;
SELECT crmsync.map('demo', 'companies', 'companies', 'domain',
                   properties => '{"domain":"domain","name":"name","employees":"numberofemployees"}');
SELECT crmsync.map('demo', 'contacts', 'contacts', 'email',
                   properties => '{"email":"email","first_name":"firstname","last_name":"lastname","lifecycle":"lifecyclestage","updated_at":"lastmodifieddate"}');
SELECT crmsync.map('demo', 'deals', 'deals', 'id', id_property => 'deal_external_id',
                   properties => '{"name":"dealname","amount":"amount","stage":"dealstage","close_date":"closedate"}');
SELECT crmsync.create_slot('demo') IS NOT NULL AS slot_created;
SQL

echo "== mappings"
psql_demo -c "SELECT crm, source, object, id_column, properties FROM crmsync.mappings ORDER BY source::text"

echo "== streaming the slot crmsync_demo in format '$FORMAT' (pg_recvlogical), while a workload runs"
"$(pg_config --bindir)/pg_recvlogical" -h "$WORK/pg" -p "$PORT" -U postgres -d postgres -S crmsync_demo --start \
    -o crm=demo -o format="$FORMAT" -f - &
RECV_PID=$!
sleep 1
psql_demo <<'SQL'
INSERT INTO companies VALUES (1, 'acme.example', 'Acme', 120), (2, 'globex.example', 'Globex', 4000);
INSERT INTO contacts (id, email, first_name, last_name, company_id, lifecycle)
VALUES (1, 'ann@acme.example', 'Ann', 'Lee', 1, 'lead'), (2, 'bob@globex.example', 'Bob', 'Ng', 2, 'customer');
INSERT INTO deals VALUES (10, 'Acme renewal', 12000.50, 'appointmentscheduled', '2026-12-31', 1);
UPDATE contacts SET lifecycle = 'opportunity', updated_at = now() WHERE id = 1;
UPDATE deals SET stage = 'closedwon' WHERE id = 10;
DELETE FROM deals WHERE id = 10;
SELECT pg_logical_emit_message(true, 'crmsync', '{"note":"messages pass through"}');
SQL
sleep 2
kill "$RECV_PID" 2>/dev/null || true
wait "$RECV_PID" 2>/dev/null || true
RECV_PID=""
echo
echo "== slot status"
psql_demo -c "SELECT crm, slot_name, active, lag_bytes, wal_status FROM crmsync.status"
echo "The sender (crmsync-sender) that delivers these records to a CRM is being built; see README."
