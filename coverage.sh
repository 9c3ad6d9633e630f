#!/usr/bin/env bash
# Line-coverage summary via cargo-tarpaulin. Its ptrace engine works on stable
# Rust without the llvm-tools-preview component (which we cannot add).
# Usage: ./coverage.sh [extra cargo-tarpaulin args]; reports also land in target/coverage/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! cargo tarpaulin --version >/dev/null 2>&1; then
    # tarpaulin's default features pull in git2 -> openssl-sys, which needs these to build.
    missing=()
    for pkg in pkg-config libssl-dev; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        if [ "$(id -u)" -eq 0 ]; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
        else
            echo "coverage.sh: missing ${missing[*]}; not root, so not installing them" >&2
        fi
    fi
    cargo install --locked cargo-tarpaulin
fi

# --skip-clean reuses earlier builds; a generous --timeout because ptrace slows
# the tests, which wait on local servers and threads.
exec cargo tarpaulin --engine ptrace --skip-clean --timeout 300 \
    --out Stdout --out Lcov --out Html --output-dir target/coverage "$@"
