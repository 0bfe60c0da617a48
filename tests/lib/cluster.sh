# Throwaway Postgres 15 clusters for tests, demo and benchmarks. Source this file.
# initdb and postgres refuse to run as root, so as root the cluster runs as `postgres`
# in a directory that user owns. Never touches the system cluster: own port, own socket.
#   cluster_start DIR PORT [extra postgresql.conf lines...]
#   cluster_stop DIR
#   cluster_psql DIR PORT [psql args...]
PG_BIN=${PG_BIN:-$(pg_config --bindir)}
CRMSYNC_ROOT=${CRMSYNC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

as_pg_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cluster_start() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_pg_user "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    {
        cat "$CRMSYNC_ROOT/tests/regress.conf"
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        for line in "$@"; do echo "$line"; done
    } | as_pg_user tee -a "$dir/data/postgresql.conf" >/dev/null
    as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
}

cluster_stop() {
    local dir=$1
    [ -d "$dir/data" ] && as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

cluster_psql() {
    local dir=$1 port=$2
    shift 2
    "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"
}
