#!/usr/bin/env bash
# A large upload read from a file as it is sent: the fetch example's `-T` (Body::file) against
# `curl -T`, PUT to the same loopback nginx, taking turns. nginx takes the body with its
# WebDAV PUT, which reads every byte before it answers and writes it to a file: the size of
# that file is checked after each run. Prints the wall time, throughput, CPU time and peak
# RSS of each, asynchttp's throughput as a ratio to curl's (the median of the rounds' own
# ratios), and whether fetch's peak RSS stayed under 32 MiB.
#
#   benches/upload.sh                       # 1 GiB, 3 rounds
#   SIZE_MIB=256 ROUNDS=5 benches/upload.sh
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

# On tmpfs when it has room for the file and nginx's copy of it: a disk's writeback would
# swing the rounds by seconds, whoever sends.
shm_free_mib="$(df -Pm /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')"
if [ "${shm_free_mib:-0}" -gt $((size_mib * 3)) ]; then
    tmp="$(mktemp -d -p /dev/shm)"
else
    tmp="$(mktemp -d)"
fi
nginx_pid=""
stop() {
    [ -z "$nginx_pid" ] || kill -QUIT "$nginx_pid" 2>/dev/null || true
    sleep 0.2
    rm -rf "$tmp"
}
trap stop EXIT
chmod 755 "$tmp"
mkdir -m 777 "$tmp/www" "$tmp/www/up" "$tmp/client_body"
# Real bytes, not a sparse file: both clients read them from the page cache.
head -c "${size_mib}M" /dev/urandom >"$tmp/big"
chmod 644 "$tmp/big"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $tmp/www;
        location /up/ {
            # Any size; the body is read whole (in 1 MiB reads) into a temporary file, which
            # is renamed into place before the answer goes.
            client_max_body_size 0;
            client_body_buffer_size 1m;
            dav_methods PUT;
        }
    }
}
CONF
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf"
for _ in $(seq 50); do [ -s "$tmp/nginx.pid" ] && break; sleep 0.1; done
nginx_pid="$(cat "$tmp/nginx.pid")"
url="http://127.0.0.1:$port/up/"
cat "$tmp/big" >/dev/null # warm the page cache

# One upload by `who`; prints "wall_s peak_kib user_s sys_s".
run() {
    local who="$1"
    rm -f "$tmp/www/up/big"
    case "$who" in
    # `Expect:` off, as asynchttp has it: curl would otherwise wait for a 100 Continue.
    curl) /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" curl -sf -o /dev/null -H 'Expect:' \
        -T "$tmp/big" "$url" ;;
    asynchttp) /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$fetch" -T "$tmp/big" "$url" \
        >/dev/null ;;
    esac
    # nginx wrote what it read: the whole body, or the run does not count.
    local got
    got="$(stat -c %s "$tmp/www/up/big" 2>/dev/null || echo 0)"
    [ "$got" = "$((size_mib * 1024 * 1024))" ] || {
        echo "$who: nginx got $got bytes, not ${size_mib} MiB" >&2
        exit 1
    }
    cmp -s "$tmp/big" "$tmp/www/up/big" || { echo "$who: nginx got other bytes" >&2; exit 1; }
    rm -f "$tmp/www/up/big"
    tail -1 "$tmp/time"
}

echo "$size_mib MiB PUT to nginx on 127.0.0.1, $rounds rounds, taking turns" >&2
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
peak = max(of("asynchttp", 3)) / 1024
print(f"fetch -T peak RSS {peak:.1f} MiB: {'under' if peak < 32 else 'OVER'} the 32 MiB target")
sys.exit(0 if peak < 32 else 1)
PY
