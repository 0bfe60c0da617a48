#!/usr/bin/env bash
# Decode throughput on each PostgreSQL major: the same harness and the same generated load
# (bench/decode_throughput.py, same sizes) on Debian's 15 and on 17 and 18 built from Debian's
# source packages (tests/install_postgres.sh), with crmsync in each format,
# pgoutput, test_decoding and the floor plugin built and installed for each major. Prints,
# per major, changes/s and the ratio to pgoutput measured in the same run.
#
#   sudo bench/decode_majors.sh [--out DIR] [--majors "15 17 18"] [-- decode_throughput.py options]
#
# wal2json and decoderbufs are left out: Debian 12 packages them for 15 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
OUT=$ROOT/results/decode-majors-$(date -u +%Y%m%dT%H%M%SZ)
MAJORS="15 17 18"
while [ $# -gt 0 ]; do
    case $1 in
        --out) OUT=$2; shift ;;
        --majors) MAJORS=$2; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run as root (make install into each major, clusters as the postgres user)" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
VARIANTS=crmsync_webhook,crmsync_hubspot,crmsync_salesforce,crmsync_expressions,pgoutput,test_decoding,floor

for major in $MAJORS; do
    pg_config=$("$ROOT/tests/install_postgres.sh" "$major")
    # Built in a scratch copy: objects of another major must not be reused.
    build=$(mktemp -d "/tmp/crmsync-bench-pg$major.XXXXXX")
    (cd "$ROOT" && tar cf - Makefile plugin bench/floor_plugin) | tar xf - -C "$build"
    for dir in "$build" "$build/bench/floor_plugin"; do
        make -s -C "$dir" PG_CONFIG="$pg_config" clean >/dev/null
        make -s -C "$dir" -j"${JOBS:-2}" PG_CONFIG="$pg_config"
        make -s -C "$dir" PG_CONFIG="$pg_config" install
    done
    rm -rf "$build"
    echo "--- PostgreSQL $major ($("$pg_config" --version)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    CRMSYNC_PG_CONFIG="$pg_config" $PY "$ROOT/bench/decode_throughput.py" --out "$OUT/pg$major" \
        --variants "$VARIANTS" --port $((56600 + major)) "$@"
done

$PY - "$OUT" $MAJORS <<'PYEOF'
import csv, os, sys
out, majors = sys.argv[1], sys.argv[2:]
print(f"\nchanges/s (median) and ÷ pgoutput, per major; {out}")
print(f"{'major':<6} {'shape':<7} {'mode':<6} {'variant':<19} {'changes/s':>11} {'÷ pgoutput':>10}")
for major in majors:
    with open(os.path.join(out, f"pg{major}", "decode_summary.csv")) as f:
        rows = list(csv.DictReader(f))
    pgoutput = {(r["shape"], r["mode"]): float(r["median_s"]) for r in rows if r["variant"] == "pgoutput"}
    for r in rows:
        ratio = pgoutput[(r["shape"], r["mode"])] / float(r["median_s"])
        print(f"{major:<6} {r['shape']:<7} {r['mode']:<6} {r['variant']:<19} {int(r['changes_per_s']):>11,} {ratio:>10.2f}")
PYEOF
