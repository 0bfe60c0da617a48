#!/usr/bin/env bash
# The plugin on the PostgreSQL majors beside Debian's 15: for each of CRMSYNC_PG_MAJORS
# (default "17 18") it provides the major (tests/install_postgres.sh, built once and kept),
# builds the plugin against it in a scratch copy of the tree (the checkout's own build stays
# 15's), installs it into that major's prefix and runs the pg_regress and isolation suites
# there (tests/run_regress.sh), then the end-to-end tests of what depends on the server: a
# mixed workload in every format, the sender killed with SIGKILL, CRM errors and dropped
# connections, Postgres restarted mid-stream, the initial sync under load, and a physical
# standby promoted mid-stream with the sender going on from its failover slot (the sender
# and mock CRM from CRMSYNC_BUILD_DIR, default build/). Differences of expected output between
# majors are alternative expected files, each explained at the top of its test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
majors=${CRMSYNC_PG_MAJORS:-17 18}
status=0
for major in $majors; do
    echo "--- PostgreSQL $major"
    started=$SECONDS
    pg_config=$("$ROOT/tests/install_postgres.sh" "$major")
    echo "--- PostgreSQL $major: provided in $((SECONDS - started)) s ($("$pg_config" --version))"
    started=$SECONDS
    build=$(mktemp -d "/tmp/crmsync-pg$major-build.XXXXXX")
    (cd "$ROOT" && tar cf - Makefile plugin) | tar xf - -C "$build"
    # Objects of another major may be in the copy: build from clean.
    make -s -C "$build" PG_CONFIG="$pg_config" clean >/dev/null
    make -s -C "$build" -j"${JOBS:-2}" PG_CONFIG="$pg_config"
    $SUDO make -s -C "$build" PG_CONFIG="$pg_config" install
    rm -rf "$build"
    # Ports apart from 15's (58432) and from each other.
    if ! PG_CONFIG="$pg_config" REGRESS_PORT=$((58400 + major * 2)) "$ROOT/tests/run_regress.sh"; then
        echo "--- PostgreSQL $major: suites FAILED"
        status=1
    fi
    echo "--- PostgreSQL $major: plugin built, suites run in $((SECONDS - started)) s"
    started=$SECONDS
    if ! CRMSYNC_PG_CONFIG="$pg_config" CRMSYNC_E2E_PORT=$((56400 + major)) \
            CRMSYNC_BUILD_DIR="${CRMSYNC_BUILD_DIR:-$ROOT/build}" /usr/bin/python3 -m pytest -p no:cacheprovider -q \
            "$ROOT/tests/e2e/test_delivery.py" "$ROOT/tests/e2e/test_backfill.py" "$ROOT/tests/e2e/test_failover.py" \
            -k "mixed_workload or killed_mid_stream or crm_errors_slowness or postgres_restart or initial_sync_of_existing or promoted"; then
        echo "--- PostgreSQL $major: end-to-end tests FAILED"
        status=1
    fi
    echo "--- PostgreSQL $major: end-to-end tests run in $((SECONDS - started)) s"
done
exit $status
