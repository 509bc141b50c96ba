#!/usr/bin/env bash
# The test suite's own throwaway servers on loopback (Debian 12, root, no systemd): PostgreSQL 15 from the
# machine image, and Redis 7 from Debian's packages (installed with apt-get when it is missing).
# usage: ci-services.sh start|stop|status
#   start   idempotent (a second start is a no-op); waits until the server accepts connections and
#           prints the connection string
#   stop    stops the servers and removes their directory
#   status  prints whether they accept connections; exits 0 only when both do
# Facts and timings behind this: /work/shared/SERVICES.md.
set -euo pipefail
PG_PORT=${PG_PORT:-5440}
REDIS_PORT=${REDIS_PORT:-6390}
# Everything under /tmp: the postgres user must be able to traverse every parent (a CI clone may sit under /root).
SVC_DIR=${SVC_DIR:-/tmp/tasktempest-services}
PG_DATA="$SVC_DIR/pg"
# Parallel test classes each open a pool of connections: the default of 100 is too few.
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-200}

# The machine image has PostgreSQL 15 here; the newest installed version wins.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

pg() { runuser -u postgres -- "$PG_BIN/$1" "${@:2}"; }   # initdb and postgres refuse to run as root
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

start_postgres() {
  [ -x "$PG_BIN/initdb" ] || { echo "ci-services.sh: no PostgreSQL in /usr/lib/postgresql/*/bin" >&2; return 1; }
  # A fresh cluster: trust auth on loopback, no fsync (the data is thrown away after the run).
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    rm -rf "$PG_DATA"
    install -d -o postgres -g postgres -m 700 "$PG_DATA"
    pg initdb -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$SVC_DIR/initdb.log" 2>&1 ||
      { echo "ci-services.sh: initdb failed:" >&2; cat "$SVC_DIR/initdb.log" >&2; return 1; }
  fi
  if ! pg pg_ctl -D "$PG_DATA" status >/dev/null 2>&1; then
    # Someone else's server on the port would make ours fail to bind: say so instead of a bare timeout.
    if pg_ready; then
      echo "ci-services.sh: port $PG_PORT already has a PostgreSQL that is not $PG_DATA's" >&2
      return 1
    fi
    # -w waits for readiness (not the pid: the image's PID 1 reaps stopped daemons slowly).
    pg pg_ctl -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 start -o "-p $PG_PORT -k $PG_DATA \
      -c listen_addresses=127.0.0.1 -c max_connections=$PG_MAX_CONNECTIONS \
      -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null ||
      { echo "ci-services.sh: PostgreSQL did not start; its log:" >&2; tail -20 "$PG_DATA/server.log" >&2; return 1; }
  fi
  pg_ready || { echo "ci-services.sh: PostgreSQL is not accepting connections on 127.0.0.1:$PG_PORT" >&2; return 1; }
}

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-services.sh: redis-server is missing: run 'sudo apt-get install redis-server' and try again" >&2
    return 1
  fi
  # Debian's package scripts would start a default daemon unless policy-rc.d forbids it (it does in the image).
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends redis-server >"$SVC_DIR/apt.log" 2>&1 ||
    { apt-get update >>"$SVC_DIR/apt.log" 2>&1 && apt-get install -y --no-install-recommends redis-server >>"$SVC_DIR/apt.log" 2>&1; } ||
    { echo "ci-services.sh: apt-get could not install redis-server:" >&2; tail -20 "$SVC_DIR/apt.log" >&2; return 1; }
}

redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; }

start_redis() {
  install_redis
  # No persistence (the data is thrown away), loopback only, and the policy a job queue needs: never evict a key.
  if ! redis_ready; then
    install -d -m 755 "$SVC_DIR/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --maxmemory-policy noeviction \
      --daemonize yes --dir "$SVC_DIR/redis" --pidfile "$SVC_DIR/redis/redis.pid" --logfile "$SVC_DIR/redis/redis.log"
    for _ in $(seq 200); do redis_ready && break; sleep 0.05; done
  fi
  redis_ready || { echo "ci-services.sh: Redis is not answering on 127.0.0.1:$REDIS_PORT; its log:" >&2; tail -20 "$SVC_DIR/redis/redis.log" >&2 2>/dev/null; return 1; }
}

stop_redis() {
  if command -v redis-cli >/dev/null 2>&1 && redis_ready; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
}

stop_postgres() {
  if [ -s "$PG_DATA/PG_VERSION" ]; then pg pg_ctl -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true; fi
}

start() {
  install -d -m 755 "$SVC_DIR"
  start_postgres
  start_redis
  echo "TASKTEMPEST_POSTGRES=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  echo "TASKTEMPEST_REDIS=127.0.0.1:$REDIS_PORT"
}

stop() {
  stop_redis
  stop_postgres
  rm -rf "$SVC_DIR"
}

status() {
  "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" && redis_ready && echo "127.0.0.1:$REDIS_PORT - Redis answers"
}

case "${1:-}" in
  start | stop | status) "$1" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
