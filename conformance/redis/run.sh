#!/usr/bin/env bash
# A Redis server for the tests of the `redis` feature and for the cache test suite through
# RedisCache, in one command:
#
#   conformance/redis/run.sh --install        # only makes sure redis-server and redis-cli are there
#   conformance/redis/run.sh COMMAND [ARG...]  # runs COMMAND beside a fresh redis-server
#
# Installs Debian's redis-server package (redis-server and redis-cli) when redis-server is
# missing (needs root and apt), with no service started: policy-rc.d answers 101 while it
# installs, so nothing listens on Redis's port. A COMMAND gets its own redis-server on
# 127.0.0.1 and a free port, with no persistence (no RDB, no AOF) and its files in a
# temporary folder, named in REDIS_URL (redis://127.0.0.1:PORT/); the server is stopped when
# the command ends, whose exit status is this script's. The tests of tests/it/redis_cache.rs
# start their own servers (they stop and restart them, and make a cluster), from the
# redis-server this installs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" # apt_install

install() {
  local wanted=()
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || wanted+=(redis-server)
  # For a free port, below.
  command -v python3 >/dev/null || wanted+=(python3)
  [ "${#wanted[@]}" -gt 0 ] || return 0
  echo "redis: installing ${wanted[*]} from Debian" >&2
  apt_install "${wanted[@]}"
}

if [ "${1:-}" = "--install" ]; then
  install
  exit 0
fi
if [ "$#" = 0 ]; then
  echo "usage: conformance/redis/run.sh --install | COMMAND [ARG...]" >&2
  exit 2
fi
install

dir="$(mktemp -d "${TMPDIR:-/tmp}/asynchttp-redis.XXXXXX")"
pid=""
stop() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap stop EXIT

# A free port: the kernel picks one for a socket that is closed at once; redis-server then
# binds it (another process taking it in between makes the start fail, below, not hang).
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" \
  --daemonize no --logfile "$dir/redis.log" &
pid=$!
for _ in $(seq 100); do
  if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "redis: redis-server exited at start:" >&2
    cat "$dir/redis.log" >&2
    exit 1
  fi
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null
export REDIS_URL="redis://127.0.0.1:$port/"
status=0
"$@" || status=$?
exit "$status"
