#!/usr/bin/env bash
# Prints, one a line, the PostgreSQL majors the packages are built for on this machine:
# those listed in packaging/debian/pgversions (the majors crmsync supports) whose server
# files are installed where Debian puts them, i.e. /usr/lib/postgresql/<major>/bin/pg_config
# exists (Debian's postgresql-server-dev-<major>, or a locally built postgresql-<major>
# package as the packaging test makes of 17 and 18). build-deb.sh and build-rpm.sh use it
# when PG_MAJORS is not set.
#   packaging/pg-majors.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# pgversions holds plain major numbers (no "all" or "15+": the list is deliberate, 16 is
# left out because it cannot be tested here).
grep -E '^[0-9]+$' "$ROOT/packaging/debian/pgversions" | while read -r major; do
    if [ -x "/usr/lib/postgresql/$major/bin/pg_config" ]; then echo "$major"; fi
done
