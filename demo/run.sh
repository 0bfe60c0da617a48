#!/usr/bin/env bash
# crmsync demo on its embedded default: a throwaway Postgres 15 cluster, the mock CRM
# (HubSpot's API shapes on loopback) and the real crmsync-sender, end to end, with a live
# status line and a check that the CRM equals the database. Cleans up after itself, also
# on Ctrl-C. Run as root or with sudo. DEMO_SECONDS, DEMO_RATE, DEMO_FORMAT adjust it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

echo "== installing what the demo needs (Debian packages), building crmsync"
tests/install_deps.sh
make -s -j2 >/dev/null
$SUDO make -s install >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target crmsync-sender crmsync-mock-crm >/dev/null
if [ "$(id -u)" = 0 ]; then
    exec env CRMSYNC_BUILD_DIR="$ROOT/build" /usr/bin/python3 demo/demo.py
fi
# initdb and postgres run as the postgres user, which the demo switches to as root.
exec $SUDO env CRMSYNC_BUILD_DIR="$ROOT/build" /usr/bin/python3 demo/demo.py
