#!/usr/bin/env bash
# Host limits shared by a fleet through Redis, against each process's own, in one run:
# examples/fleet.rs --bench (4 processes, one host limited to 2 in flight and 10 a second,
# three unlimited hosts; a redis-server of its own on a loopback port). Prints, per round,
# what the limited host's server saw (at most 2 at once and about 10 a second when shared;
# 8 and 40 when each process goes alone), the unlimited hosts' throughput, shared against
# local as a ratio (the median of the rounds'), and the time one request takes, one at a
# time, through limits that never bind: p50 and p99, shared and local.
#
#   benches/fleet.sh                      # 3 rounds, 4 processes; about a minute
#   ROUNDS=5 PROCESSES=8 benches/fleet.sh
#   REDIS=redis://127.0.0.1:6379/ benches/fleet.sh   # a Redis of yours instead
#
# Needs cargo, and root with Debian's package archive when redis-server is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
args=(--bench --rounds "${ROUNDS:-3}" --processes "${PROCESSES:-4}")
if [ -n "${REDIS:-}" ]; then
  args+=(--redis "$REDIS")
fi
cargo run --quiet --release --features redis --example fleet -- "${args[@]}"
