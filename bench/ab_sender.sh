#!/usr/bin/env bash
# The sender of two git revisions, end to end, side by side: builds crmsync-sender at each
# revision (CMake Release, frame pointers) and runs bench/e2e_latency.py's crmsync pipeline
# with each in turn, round robin, so a burst of load from other users of the machine hits
# both alike. Prints latency and sender CPU per run and the medians per revision and rate.
#
#   sudo bench/ab_sender.sh [--runs N] [--rates 1000,10000,20000] [--seconds S] REV_A REV_B
#
# Both use one mock CRM (built at REV_B) and the crmsync plugin already installed in
# PostgreSQL's lib directory (bench/run_all.sh or `make install`): only the sender differs.
# Writes results/ab-<timestamp>/ab.csv. Needs root like bench/run_all.sh (clusters as postgres).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
RUNS=3
RATES=1000,10000,20000
SECONDS_PER_RATE=10
while [ $# -gt 0 ]; do
    case $1 in
        --runs) RUNS=$2; shift ;;
        --rates) RATES=$2; shift ;;
        --seconds) SECONDS_PER_RATE=$2; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        -*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
        *) break ;;
    esac
    shift
done
[ $# -eq 2 ] || { echo "usage: bench/ab_sender.sh [--runs N] [--rates LIST] [--seconds S] REV_A REV_B" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (the clusters run as the postgres user)" >&2; exit 1; }
[ -f "$(pg_config --pkglibdir)/crmsync.so" ] || { echo "the crmsync plugin is not installed: make install first" >&2; exit 1; }

shas=()
for rev in "$1" "$2"; do  # both checked before anything is made
    shas+=("$(git -C "$ROOT" rev-parse --short "$rev^{commit}" 2>/dev/null)") || { echo "not a revision: $rev" >&2; exit 2; }
done

OUT=$ROOT/results/ab-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
builds=()
worktrees=()
# The checkouts go however the run ends (a failed build or run included).
remove_worktrees() {
    for w in "${worktrees[@]}"; do git -C "$ROOT" worktree remove --force "$w" >/dev/null 2>&1 || true; done
}
trap remove_worktrees EXIT
for sha in "${shas[@]}"; do
    src=$OUT/src-$sha
    build=$OUT/build-$sha
    git -C "$ROOT" worktree add --detach --force "$src" "$sha" >/dev/null 2>&1
    worktrees+=("$src")
    echo "building the sender at $sha"
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-fno-omit-frame-pointer" \
        >"$OUT/build-$sha.log" 2>&1 || { tail -30 "$OUT/build-$sha.log"; exit 1; }
    cmake --build "$build" -j2 --target crmsync-sender crmsync-mock-crm >>"$OUT/build-$sha.log" 2>&1 \
        || { tail -30 "$OUT/build-$sha.log"; exit 1; }
    builds+=("$sha:$build")
done
# One mock CRM for both: a difference in it must not count as the sender's.
mock_b=${builds[1]#*:}/tests/mock_crm/crmsync-mock-crm
cp "$mock_b" "${builds[0]#*:}/tests/mock_crm/crmsync-mock-crm"

echo "rev,run,rate_per_s,delivered_per_s,p50_ms,p95_ms,p99_ms,sender_cpu_pct,sender_rss_mb" >"$OUT/ab.csv"
for run in $(seq 1 "$RUNS"); do
    for entry in "${builds[@]}"; do
        sha=${entry%%:*}
        rm -rf "$OUT/run"
        CRMSYNC_BUILD_DIR=${entry#*:} "$PY" "$ROOT/bench/e2e_latency.py" --out "$OUT/run" --pipelines crmsync \
            --rates "$RATES" --seconds "$SECONDS_PER_RATE" --max-seconds 1 --replay-events 2000 --outage-s 0 \
            >>"$OUT/e2e.log" 2>&1 || { tail -30 "$OUT/e2e.log"; exit 1; }
        "$PY" - "$OUT/run/e2e_sweep.csv" "$sha" "$run" >>"$OUT/ab.csv" <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["phase"] == "sweep":
        print(",".join([sys.argv[2], sys.argv[3], r["target_per_s"], r["delivered_per_s"], r["p50_ms"], r["p95_ms"],
                        r["p99_ms"], r["client_cpu_pct"], r["client_rss_mb"]]))
EOF
        tail -n +2 "$OUT/ab.csv" | awk -F, -v s="$sha" -v n="$run" '$1 == s && $2 == n {
            printf "run %s  %s  %6s/s  p50 %6.2f ms  p99 %7.2f ms  sender CPU %5.1f %%\n", n, s, $3, $5, $7, $8 }'
    done
done
rm -rf "$OUT/run"

"$PY" - "$OUT/ab.csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"\nmedians of {max(int(r['run']) for r in rows)} runs")
print(f"{'rev':<10} {'rate/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'sender CPU %':>13} {'RSS MB':>7}")
for rev in dict.fromkeys(r["rev"] for r in rows):
    for rate in dict.fromkeys(r["rate_per_s"] for r in rows):
        sel = [r for r in rows if r["rev"] == rev and r["rate_per_s"] == rate]
        med = lambda k: statistics.median(float(r[k]) for r in sel)
        print(f"{rev:<10} {rate:>7} {med('p50_ms'):>7.2f} {med('p95_ms'):>7.2f} {med('p99_ms'):>7.2f} "
              f"{med('sender_cpu_pct'):>13.1f} {med('sender_rss_mb'):>7.1f}")
EOF
echo "raw: $OUT/ab.csv"
