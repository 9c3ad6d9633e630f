#!/usr/bin/env bash
# The HTTP cache test suite (cache-tests.fyi) against asynchttp's cache, in one command:
#
#   conformance/cache-tests/run.sh [--redis] [--floor N] [--id TEST-ID]
#
# The suite is not part of this repository. It is read from ../shared/cache-tests beside
# the checkout, or from the folder in CACHE_TESTS; it is copied into work/ (ignored), with
# the one npm package its client loads (undici) installed from package-lock.json into
# node_modules/ (ignored). Needs node 20 and npm. --floor N exits 1 when fewer than N
# graded tests pass; --id runs one test and shows its requests and responses. --redis keeps
# the entries in Redis (RedisCache, feature redis) instead of files: a fresh redis-server
# from conformance/redis/run.sh, installed when missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
suite="${CACHE_TESTS:-$repo/../shared/cache-tests}"
if [ ! -f "$suite/test-engine/client/runner.mjs" ]; then
  echo "cache-tests: no suite at $suite (set CACHE_TESTS to its folder)" >&2
  exit 2
fi

work="$here/work"
rm -rf "$work/suite"
mkdir -p "$work"
cp -R "$suite" "$work/suite"
chmod -R u+w "$work/suite"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

store=files
args=()
for arg in "$@"; do
  case "$arg" in
    --redis) store=redis ;;
    *) args+=("$arg") ;;
  esac
done

features=()
[ "$store" = files ] || features=(--features redis)
(cd "$repo" && cargo build --quiet "${features[@]}" --example cache_proxy)
proxy="${CARGO_TARGET_DIR:-$repo/target}/debug/examples/cache_proxy"

run=(node "$here/run.mjs" --suite "$work/suite" --proxy "$proxy" --work "$work" --store "$store" "${args[@]}")
if [ "$store" = redis ]; then
  # Starts the server, names it in REDIS_URL for run.mjs, and stops it after.
  exec bash "$repo/conformance/redis/run.sh" "${run[@]}"
fi
exec "${run[@]}"
