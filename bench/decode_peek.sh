#!/usr/bin/env bash
# Decode throughput, SQL interface: the same WAL (a 13-column CRM-like table) decoded by
# crmsync (each format), pgoutput (binary and text), wal2json (formats 1 and 2) and
# test_decoding, each through pg_logical_slot_peek_changes on its own slot. Prints rows/s,
# the median of RUNS runs, and each peer's ratio to crmsync (webhook).
# Usage: bench/decode_peek.sh [ROWS] [RUNS]    (defaults 200000 and 5)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-200000}
RUNS=${2:-5}
PORT=${PORT:-55610}
WORK=$(mktemp -d /tmp/crmsync-bench.XXXXXX)
chmod 755 "$WORK"
source "$ROOT/tests/lib/cluster.sh"
trap 'cluster_stop "$WORK/pg"; rm -rf "$WORK"' EXIT

cluster_start "$WORK/pg" "$PORT" "output_plugin_libraries = 'pgoutput, test_decoding, crmsync, wal2json'" \
    "logical_decoding_work_mem = 1GB" "shared_buffers = 512MB" "max_wal_size = 8GB"
q() { cluster_psql "$WORK/pg" "$PORT" -q -At "$@"; }
q <<SQL
CREATE EXTENSION crmsync;
CREATE TABLE contacts (id bigserial PRIMARY KEY, email text NOT NULL, first_name text, last_name text,
    company text, score numeric(12,2), active bool, created_at timestamptz, updated_at timestamptz,
    tags text[], attrs jsonb, city text, phone text);
SELECT crmsync.map('bench', 'contacts', 'contacts', 'id');
CREATE PUBLICATION bench_pub FOR TABLE contacts;
SELECT 'x' FROM pg_create_logical_replication_slot('s_crmsync', 'crmsync');
SELECT 'x' FROM pg_create_logical_replication_slot('s_pgoutput', 'pgoutput');
SELECT 'x' FROM pg_create_logical_replication_slot('s_wal2json', 'wal2json');
SELECT 'x' FROM pg_create_logical_replication_slot('s_test_decoding', 'test_decoding');
SQL
# 100 transactions, as an application would commit them.
per_txn=$(( ROWS / 100 ))
for i in $(seq 0 99); do
    echo "INSERT INTO contacts (email, first_name, last_name, company, score, active, created_at, updated_at, tags, attrs, city, phone)
          SELECT 'user' || g || '@example.com', 'First' || g, 'Last' || g, 'Company ' || (g % 1000), (g % 10000) / 3.0,
                 g % 2 = 0, now(), now(), ARRAY['a', 'b' || (g % 10)], jsonb_build_object('plan', 'pro', 'seats', g % 50),
                 'City ' || (g % 300), '+1-555-' || g
          FROM generate_series($(( i * per_txn + 1 )), $(( (i + 1) * per_txn ))) g;"
done | q

declare -A CALL=(
    [crmsync_webhook]="pg_logical_slot_peek_changes('s_crmsync', NULL, NULL, 'crm', 'bench')"
    [crmsync_hubspot]="pg_logical_slot_peek_changes('s_crmsync', NULL, NULL, 'crm', 'bench', 'format', 'hubspot')"
    [crmsync_salesforce]="pg_logical_slot_peek_changes('s_crmsync', NULL, NULL, 'crm', 'bench', 'format', 'salesforce')"
    [pgoutput_binary]="pg_logical_slot_peek_binary_changes('s_pgoutput', NULL, NULL, 'proto_version', '1', 'publication_names', 'bench_pub', 'binary', 'true')"
    [pgoutput_text]="pg_logical_slot_peek_binary_changes('s_pgoutput', NULL, NULL, 'proto_version', '1', 'publication_names', 'bench_pub')"
    [wal2json_v1]="pg_logical_slot_peek_changes('s_wal2json', NULL, NULL, 'format-version', '1')"
    [wal2json_v2]="pg_logical_slot_peek_changes('s_wal2json', NULL, NULL, 'format-version', '2')"
    [test_decoding]="pg_logical_slot_peek_changes('s_test_decoding', NULL, NULL)"
)
ORDER="crmsync_webhook crmsync_hubspot crmsync_salesforce pgoutput_binary pgoutput_text wal2json_v1 wal2json_v2 test_decoding"
# Round robin, so that a burst of background load hits every plugin alike.
declare -A TIMES MEDIAN
for r in $(seq "$RUNS"); do
    for name in $ORDER; do
        ms=$(q -c "\\timing on" -c "SELECT count(*) FROM ${CALL[$name]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
        TIMES[$name]+="$ms "
    done
done
for name in $ORDER; do
    MEDIAN[$name]=$(printf '%s\n' ${TIMES[$name]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
done
printf "%-20s %12s %14s %22s\n" plugin "median ms" "rows/s" "time / crmsync_webhook"
base=${MEDIAN[crmsync_webhook]}
for name in $ORDER; do
    ms=${MEDIAN[$name]}
    awk -v n="$name" -v ms="$ms" -v rows="$ROWS" -v base="$base" \
        'BEGIN { printf "%-20s %12.1f %14.0f %22.2f\n", n, ms, rows / (ms / 1000), ms / base }'
done
