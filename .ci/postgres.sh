# Sourced by .ci/run: a throwaway PostgreSQL server (Debian's package) on 127.0.0.1 for the distributed-search
# test. It is stopped and its data removed when the calling shell exits.
pg_port="${AUTOML_PG_PORT:-55432}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
pg_data="$(mktemp -d /tmp/automl-pg.XXXXXX)"
if [ "$(id -u)" -eq 0 ]; then   # the server refuses to run as root: run it as Debian's postgres user
    chown postgres "$pg_data"
    pg_as=(runuser -u postgres --)
else
    pg_as=()
fi
"${pg_as[@]}" "$pg_bin/initdb" -D "$pg_data" -A trust -U postgres >/dev/null
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pg_data" start >/dev/null
stop_postgres() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null || true
    rm -rf "$pg_data"
}
trap stop_postgres EXIT
export AUTOML_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$pg_port/postgres"
export AUTOML_REQUIRE_POSTGRES=1
