#!/usr/bin/env bash
# A large download streamed to a file: the fetch example's `-o` (Http::download) against
# `curl -o`, on the same loopback nginx, taking turns. Prints the wall time, throughput,
# CPU time and peak RSS of each, and asynchttp's throughput as a ratio to curl's (the
# median of the rounds' own ratios).
#
#   benches/download.sh                     # 1 GiB, 3 rounds
#   SIZE_MIB=256 ROUNDS=5 benches/download.sh
#
# Needs root (or nginx already installed), curl, cargo and Debian's package archive.
# nginx listens on 127.0.0.1 only, from a temporary directory removed at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
size_mib="${SIZE_MIB:-1024}"
rounds="${ROUNDS:-3}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
if [ ! -x "$nginx_bin" ] || ! command -v curl >/dev/null; then
    echo "installing nginx and curl..." >&2
    apt-get update -qq
    # No service may start on installing (policy-rc.d answering 101 forbids it).
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx curl \
        >/dev/null
    rm -f /usr/sbin/policy-rc.d
    nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
fi

echo "building the fetch example..." >&2
(cd "$root" && cargo build --release --quiet --example fetch)
fetch="$root/target/release/examples/fetch"

tmp="$(mktemp -d)"
nginx_pid=""
stop() {
    [ -z "$nginx_pid" ] || kill -QUIT "$nginx_pid" 2>/dev/null || true
    sleep 0.2
    rm -rf "$tmp"
}
trap stop EXIT
chmod 755 "$tmp"
mkdir -m 755 "$tmp/www" "$tmp/out"
truncate -s "${size_mib}M" "$tmp/www/big"
chmod 644 "$tmp/www/big"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    server { listen 127.0.0.1:$port; root $tmp/www; location / { } }
}
CONF
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf"
for _ in $(seq 50); do [ -s "$tmp/nginx.pid" ] && break; sleep 0.1; done
nginx_pid="$(cat "$tmp/nginx.pid")"
url="http://127.0.0.1:$port/big"
curl -sf -o /dev/null "$url" # warm the page cache

# One download by `who`; prints "wall_s peak_kib user_s sys_s".
run() {
    local who="$1"
    rm -rf "$tmp/out" && mkdir "$tmp/out"
    case "$who" in
    curl) /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" curl -sf -o "$tmp/out/big" "$url" ;;
    asynchttp) /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$fetch" -o "$tmp/out" "$url" \
        >/dev/null ;;
    esac
    local got
    got="$(find "$tmp/out" -type f -size "${size_mib}M" | wc -l)"
    [ "$got" = 1 ] || { echo "$who: the file is missing or not ${size_mib} MiB" >&2; exit 1; }
    tail -1 "$tmp/time"
}

echo "$size_mib MiB from nginx on 127.0.0.1, $rounds rounds, taking turns" >&2
results="$tmp/results"
for round in $(seq "$rounds"); do
    order="curl asynchttp"
    [ $((round % 2)) = 0 ] && order="asynchttp curl"
    for who in $order; do
        line="$(run "$who")"
        echo "$round $who $line" >>"$results"
        echo "  round $round $who: $line (wall s, peak KiB, user s, sys s)" >&2
    done
done

python3 - "$results" "$size_mib" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
mib = float(sys.argv[2])
def of(who, col):
    return [float(r[col]) for r in rows if r[1] == who]
print(f"\n| client | wall s | MiB/s | CPU s | peak RSS MiB |")
print("|---|--:|--:|--:|--:|")
for who in ("asynchttp", "curl"):
    wall = statistics.median(of(who, 2))
    cpu = statistics.median([u + s for u, s in zip(of(who, 4), of(who, 5))])
    rss = max(of(who, 3)) / 1024
    print(f"| {who} | {wall:.2f} | {mib / wall:,.0f} | {cpu:.2f} | {rss:.1f} |")
ratios = []
for r in sorted({row[0] for row in rows}):
    a = [float(x[2]) for x in rows if x[0] == r and x[1] == "asynchttp"][0]
    c = [float(x[2]) for x in rows if x[0] == r and x[1] == "curl"][0]
    ratios.append(c / a)
print(f"\nasynchttp's throughput / curl's: {statistics.median(ratios):.2f} "
      f"(median of the rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
PY
