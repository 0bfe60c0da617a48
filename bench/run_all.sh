#!/usr/bin/env bash
# Every crmsync benchmark in one run, on throwaway clusters, against its peers; writes
# results/<timestamp>/report.md, *.png plots (gnuplot) and the raw CSV/JSON they come from.
#
#   sudo bench/run_all.sh            # full run (about 22 minutes on 2 shared cores, plus about 35 for the
#                                    # quota benchmark with its peers, plus the first build)
#   sudo bench/run_all.sh --quick    # smaller sizes, shorter windows: a smoke run (about 7 minutes)
#
# Options: --out DIR (default results/<timestamp>), --no-profile (skip the perf passes),
# --skip-install (no apt-get/npm/make install: everything is already in place).
# Needs root: it installs Debian packages (gnuplot-nox, postgresql-15-wal2json,
# postgresql-15-decoderbufs, linux-perf, valgrind), installs the crmsync plugin and the floor plugin into the
# system's PostgreSQL 15 lib directory, and runs the clusters as the postgres user.
# What is measured and how: docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${CRMSYNC_BENCH_BUILD_DIR:-$ROOT/build-bench}
PY=/usr/bin/python3

MODE=full
PROFILE=1
INSTALL=1
OUT=
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=quick ;;
        --no-profile) PROFILE=0 ;;
        --skip-install) INSTALL=0 ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run as root (apt-get, make install, clusters as the postgres user)" >&2; exit 1; }
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$ROOT/results/$STAMP}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
exec > >(tee -a "$OUT/run.log") 2>&1
T0=$(date +%s)
step() { printf '\n== %s  (%s, +%ds)\n' "$1" "$(date +%H:%M:%S)" $(( $(date +%s) - T0 )); }

if [ "$MODE" = full ]; then
    # Five: a single decode run can take 1.4x its neighbours on these shared cores, and with
    # three a burst that hits one plugin twice moves its median.
    DECODE_RUNS=5
    DECODE_ARGS=(--changes crm=500000,narrow=450000,wide=50000 --runs $DECODE_RUNS)
    E2E_ARGS=(--rates 1000,5000,10000,20000,50000 --seconds 10 --max-seconds 15 --replay-events 200000
              --outage-s 60 --outage-around-s 10 --outage-rate 5000)
    MICRO_ARGS=(--benchmark_min_time=0.3 --benchmark_repetitions=3)
    BACKFILL_ARGS=(--rows 500000)
    QUOTA_ARGS=(--rates 500,2000,5000 --seconds 120 --contacts 50000)
    INSTRUCTION_ARGS=(--shapes crm,narrow,wide --changes 10000)
else
    DECODE_RUNS=2
    DECODE_ARGS=(--changes crm=40000,narrow=30000,wide=8000 --runs $DECODE_RUNS)
    E2E_ARGS=(--rates 1000,5000,10000,20000,50000 --seconds 3 --max-seconds 4 --replay-events 30000
              --outage-s 10 --outage-around-s 3 --outage-rate 2000 --max-wait-s 20)
    MICRO_ARGS=(--benchmark_min_time=0.05 --benchmark_repetitions=2)
    BACKFILL_ARGS=(--rows 50000)
    QUOTA_ARGS=(--rates 2000 --seconds 20 --contacts 5000 --peer-drain-s 30)
    INSTRUCTION_ARGS=(--shapes crm,narrow --changes 1000)
fi
if [ "$PROFILE" = 1 ]; then
    DECODE_ARGS+=(--profile crmsync_webhook,pgoutput)
    E2E_ARGS+=(--profile)
fi

step "dependencies"
if [ "$INSTALL" = 1 ]; then
    need=()
    for pkg in gnuplot-nox postgresql-15-wal2json postgresql-15-decoderbufs linux-perf valgrind; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
        echo "apt-get install ${need[*]}"
        apt-get install -y --no-install-recommends "${need[@]}" >/dev/null \
            || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
    fi
    command -v node >/dev/null || { echo "node (Node.js 20) is required for the node peer" >&2; exit 1; }
    # The node peer's dependencies, exactly as locked; node_modules stays out of git.
    (cd "$BENCH/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

step "build (CMake Release with frame pointers, for perf call graphs)"
built() { "$@" >>"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; echo "build failed: $*" >&2; exit 1; }; }
built cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-fno-omit-frame-pointer"
built cmake --build "$BUILD" -j2 --target crmsync-sender crmsync-mock-crm render_bench batch_bench
if [ "$INSTALL" = 1 ]; then
    # The plugin as it is in this tree, and the floor plugin, into PostgreSQL's lib directory.
    built make -C "$ROOT" -j2
    built make -C "$ROOT" install
    built make -C "$BENCH/floor_plugin"
    built make -C "$BENCH/floor_plugin" install
fi
echo "built (log: build.log)"
export CRMSYNC_BUILD_DIR=$BUILD

{
    echo "started=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "mode=$MODE"
    if [ "$MODE" = quick ]; then echo "command=bench/run_all.sh --quick"; else echo "command=bench/run_all.sh"; fi
    echo "cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
    echo "cores=$(nproc)"
    echo "memory=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
    echo "kernel=Linux $(uname -r)"
    echo "postgres=$(pg_config --version | sed 's/PostgreSQL //')"
    echo "git=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- plugin sender 2>/dev/null || echo ' + local changes')"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "decode_runs=$DECODE_RUNS"
} > "$OUT/meta.txt"

step "micro-benchmarks: renderer and sender batch assembly (Google Benchmark)"
for b in render_bench batch_bench; do
    "$BUILD/bench/$b" "${MICRO_ARGS[@]}" --benchmark_report_aggregates_only=true \
        --benchmark_format=json --benchmark_out="$OUT/$b.json" --benchmark_out_format=json >/dev/null 2>&1
    echo "$b: $(grep -c '"aggregate_name": "median"' "$OUT/$b.json") benchmarks"
done

step "decode throughput: peek and streaming, crmsync vs peers"
$PY "$BENCH/decode_throughput.py" --out "$OUT" "${DECODE_ARGS[@]}"

step "instructions per change: callgrind, crmsync vs peers"
$PY "$BENCH/plugin_instructions.py" --out "$OUT" "${INSTRUCTION_ARGS[@]}"

step "end to end: crmsync, outbox + poller, node + wal2json; CRM outage"
$PY "$BENCH/e2e_latency.py" --out "$OUT" "${E2E_ARGS[@]}"

step "backfill: existing rows into the mock CRM (initial sync, re-sync while streaming)"
$PY "$BENCH/backfill_throughput.py" --out "$OUT" "${BACKFILL_ARGS[@]}"

step "under HubSpot's quota: Zipf updates, crmsync (coalescing) beside the node and outbox peers, 429s, lag"
$PY "$BENCH/quota_bench.py" --out "$OUT" "${QUOTA_ARGS[@]}"

step "report"
{
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "duration=$(( ($(date +%s) - T0) / 60 )) min $(( ($(date +%s) - T0) % 60 )) s"
} >> "$OUT/meta.txt"
$PY "$BENCH/report.py" "$OUT"
echo
echo "report: $OUT/report.md"
