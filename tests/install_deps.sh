#!/usr/bin/env bash
# Installs every Debian package crmsync needs to build, test, demo and benchmark.
# Idempotent; needs root (or sudo).
set -euo pipefail
packages=(
    build-essential cmake pkg-config
    postgresql-15 postgresql-server-dev-15 postgresql-client-15 libpq-dev
    postgresql-15-wal2json postgresql-15-decoderbufs
    rapidjson-dev libtomlplusplus-dev libcli11-dev libcpp-httplib-dev
    libcurl4-openssl-dev libsystemd-dev libssl-dev
    libhowardhinnant-date-dev tzdata
    libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-pytest python3-psycopg2 curl ca-certificates
    dpkg-dev debhelper postgresql-server-dev-all rpm
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Do not create or start the distribution's own cluster: tests run their own.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get update -qq
# The createcluster.conf written above exists before postgresql-common installs its own
# conffile: keep ours without a conffile prompt (there is no terminal in CI).
$SUDO apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
