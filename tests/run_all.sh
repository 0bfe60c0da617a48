#!/usr/bin/env bash
# Builds crmsync and runs every test: unit tests (ctest), the plugin's pg_regress and
# isolation suites on a throwaway cluster of Debian's PostgreSQL 15 and of 17 and 18 (built
# from Debian's source packages the first time, tests/install_postgres.sh), and the
# end-to-end tests. Exits non-zero when anything fails. Run as root (CI) or as a user with
# sudo; installs what it needs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-2}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

# Each step's time, printed as it ends and again at the end (how CI's time is spent).
timings=()
current=""
step_started=$SECONDS
end_step() {
    [ -n "$current" ] || return 0
    timings+=("$(printf '%6d s  %s' $((SECONDS - step_started)) "$current")")
    printf '=== %s: %d s\n' "$current" $((SECONDS - step_started))
}
step() {
    end_step
    current=$*
    step_started=$SECONDS
    printf '\n=== %s\n' "$*"
}

step "dependencies"
tests/install_deps.sh

step "plugin: build and install (PGXS)"
make -j"$JOBS"
$SUDO make install

step "unit tests (CMake + GoogleTest)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure -j"$JOBS"

step "plugin: pg_regress and isolation suites"
tests/run_regress.sh

step "plugin on PostgreSQL 17 and 18 (built from Debian's source packages, kept in /var/cache/crmsync-postgres)"
tests/run_majors.sh

step "end to end: Postgres + plugin + crmsync-sender + mock CRM (pytest)"
# Debian's python3 with python3-pytest and python3-psycopg2, whatever python is first on PATH.
CRMSYNC_BUILD_DIR="$ROOT/build" /usr/bin/python3 -m pytest -p no:cacheprovider -v tests/e2e
step "packages: build .deb and .rpm, install, sync through the installed binaries, purge"
# Last: it installs and purges the packages; files of the make install above are put back.
tests/packaging/test_packages.sh
end_step
printf '\n=== all tests passed in %d s\n' $SECONDS
printf '%s\n' "${timings[@]}"
