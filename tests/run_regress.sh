#!/usr/bin/env bash
# Runs the pg_regress suites (sql/, expected/) and the isolation specs (specs/) against
# throwaway clusters that pg_regress starts itself with tests/regress.conf. As root, the
# clusters run as the postgres user, in a scratch directory it owns.
#   PG_CONFIG   the major to test (default: pg_config on PATH, Debian's 15); the plugin must
#               be installed there (tests/run_majors.sh does both)
#   REGRESS_PORT  first of the two ports the throwaway clusters use (default 58432)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
PGXS_DIR=$(dirname "$("$PG_CONFIG" --pgxs)")/..
BINDIR=$("$PG_CONFIG" --bindir)
PORT=${REGRESS_PORT:-58432}
OUT=${REGRESS_OUT:-$(mktemp -d /tmp/crmsync-regress.XXXXXX)}
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# The postgres user may not be able to read the checkout (CI clones anywhere): give the
# suites to it in the scratch directory.
mkdir -p "$OUT/suite"
cp -r "$ROOT/sql" "$ROOT/expected" "$OUT/suite/" 2>/dev/null || true
[ -d "$ROOT/specs" ] && cp -r "$ROOT/specs" "$OUT/suite/"
cp "$ROOT/tests/regress.conf" "$OUT/suite/"
[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$OUT"
chmod 755 "$OUT"
SUITE="$OUT/suite"

tests=$(cd "$ROOT/sql" 2>/dev/null && ls *.sql 2>/dev/null | sed 's/\.sql$//' | sort || true)
specs=$(cd "$ROOT/specs" 2>/dev/null && ls *.spec 2>/dev/null | sed 's/\.spec$//' | sort || true)
status=0
if [ -n "$tests" ]; then
    run "$PGXS_DIR/test/regress/pg_regress" --inputdir="$SUITE" --outputdir="$OUT" --bindir="$BINDIR" \
        --temp-instance="$OUT/tmp_check" --temp-config="$SUITE/regress.conf" --port="$PORT" \
        $tests || status=1
fi
if [ -n "$specs" ]; then
    run "$PGXS_DIR/test/isolation/pg_isolation_regress" --inputdir="$SUITE" --outputdir="$OUT/isolation" \
        --bindir="$BINDIR" --temp-instance="$OUT/tmp_check_iso" --temp-config="$SUITE/regress.conf" \
        --port=$((PORT + 1)) $specs || status=1
fi
if [ $status -ne 0 ]; then
    for f in "$OUT/regression.diffs" "$OUT/isolation/regression.diffs"; do
        [ -s "$f" ] && { echo "--- $f"; cat "$f"; }
    done
fi
exit $status
