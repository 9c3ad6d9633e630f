#!/usr/bin/env bash
# asynchttp against its peers on nginx: installs what is missing, builds, measures, prints
# the tables and writes them to results.md beside this script.
#
#   benches/peers/run.sh                  # 3 rounds of everything: 15 to 25 minutes on 2 cores
#   benches/peers/run.sh --quick          # 1 round, a tenth of the requests: a minute or two
#   benches/peers/run.sh --rounds 5 --scenarios seq,get-c8 --clients asynchttp,isahc,ureq
#
# Every argument goes to `asynchttp-peers run` (src/main.rs lists them). Needs root (or
# nginx, openssl and python3-httplib2 already installed), cargo, and Debian's package archive.
# nginx listens on 127.0.0.1 only, on three free ports (plain http; https offering HTTP/1.1
# only; https offering HTTP/2), from a temporary directory that is removed at the end, with
# nginx itself and the throwaway CA made there for the https ports.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# The clients must reach nginx directly, whatever proxy the environment names.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

. "$here/../../conformance/lib.sh" # apt_install, throwaway_cert

nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
if [ ! -x "$nginx_bin" ]; then
    echo "installing nginx..." >&2
    apt_install nginx
    nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
fi

if ! command -v openssl >/dev/null; then
    echo "installing openssl..." >&2
    apt_install openssl
fi

# Debian's python3, where python3-httplib2 installs (a python3 earlier in PATH may not see it).
python=/usr/bin/python3
if ! "$python" -c 'import httplib2' 2>/dev/null; then
    echo "installing python3-httplib2..." >&2
    apt_install python3-httplib2 || true
fi
python_args=()
if "$python" -c 'import httplib2' 2>/dev/null; then
    python_args=(--python "$python" --note "$("$python" httplib2_client.py --version)")
else
    echo "no httplib2 for $python: its column shows -" >&2
fi

echo "building..." >&2
cargo build --release --quiet
bin="$here/target/release/asynchttp-peers"

tmp="$(mktemp -d)"
nginx_pid=""
stop() {
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" # graceful: the master ends its worker and itself
        for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$nginx_pid" 2>/dev/null && kill -TERM "$nginx_pid"
    fi
    rm -rf "$tmp"
}
trap stop EXIT

# nginx's workers run as nobody: they must be able to read the files.
chmod 755 "$tmp"
mkdir -m 755 "$tmp/www"
printf 'hello' >"$tmp/www/5"
head -c 100 /dev/zero | tr '\0' 'x' >"$tmp/www/100"
head -c 65536 /dev/zero | tr '\0' 'x' >"$tmp/www/64k"
head -c 1048576 /dev/zero | tr '\0' 'x' >"$tmp/www/1m"
chmod 644 "$tmp"/www/*
post_answer="$(head -c 100 /dev/zero | tr '\0' 'y')"

# A throwaway CA, and a certificate for 127.0.0.1 (an IP SAN) signed by it, for the https
# ports; the clients of the TLS scenarios are given ca.pem to trust. ECDSA P-256, valid for
# two days; gone with $tmp. nginx's master reads the key as root.
tls="$tmp/tls"
mkdir -m 700 "$tls"
throwaway_cert "$tls" "asynchttp-peers throwaway CA" 127.0.0.1 IP:127.0.0.1
# The clients run as this user and read the CA; nothing else there is for them.
chmod 711 "$tls" && chmod 644 "$tls/ca.pem"

start_nginx() {
    local port="$1" tls_port="$2" h2_port="$3"
    # One worker: the server never takes more than one of the two cores, so every client has
    # the other, and the figures compare the clients rather than the server's share.
    # keepalive_requests is large so that no connection is closed during a run; since nginx
    # 1.19.7 it bounds the requests of an HTTP/2 connection too (http2_max_requests, which
    # did that before, is obsolete in 1.22: nginx warns and ignores it), as keepalive_timeout
    # bounds its idle time. The https servers serve the same files; /tls answers which TLS
    # version and cipher the connection has, asked once per client before the run.
    local files="root $tmp/www;
        # return answers POST too, after reading and discarding the request body.
        location = /post { return 200 \"$post_answer\"; }
        location / { }"
    cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nodelay on;
    open_file_cache max=64 inactive=300s;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    ssl_certificate $tls/server.pem;
    ssl_certificate_key $tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:tls:1m;
    ssl_session_timeout 300s;
    server {
        listen 127.0.0.1:$port;
        $files
    }
    # ALPN: http/1.1 only.
    server {
        listen 127.0.0.1:$tls_port ssl;
        $files
        location = /tls { return 200 "\$ssl_protocol \$ssl_cipher\n"; }
    }
    # ALPN: h2, or http/1.1 for a client that does not offer h2.
    server {
        listen 127.0.0.1:$h2_port ssl http2;
        $files
        location = /tls { return 200 "\$ssl_protocol \$ssl_cipher\n"; }
    }
}
CONF
    "$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf"
}

# A free port can be taken by someone else before nginx binds it: try a few.
port=""
for _ in 1 2 3; do
    read -r candidate tls_candidate h2_candidate <<<"$("$bin" free-port 3)"
    if start_nginx "$candidate" "$tls_candidate" "$h2_candidate" 2>>"$tmp/start.log"; then
        port="$candidate" tls_port="$tls_candidate" h2_port="$h2_candidate"
        break
    fi
done
[ -n "$port" ] || { cat "$tmp/start.log" >&2; echo "nginx did not start" >&2; exit 1; }
for _ in $(seq 50); do [ -s "$tmp/nginx.pid" ] && break; sleep 0.1; done
nginx_pid="$(cat "$tmp/nginx.pid")"
# Bounded wait for the ports to accept connections (5 s each).
for p in "$port" "$tls_port" "$h2_port"; do
    ready=""
    for _ in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then ready=1; break; fi
        sleep 0.1
    done
    [ -n "$ready" ] || { cat "$tmp/error.log" >&2; echo "nginx is not answering on $p" >&2; exit 1; }
done

nginx_version="$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
# Which asynchttp was measured: the checkout this script is in.
commit="$(git -C "$here" log -1 --format='%h (%cs)' 2>/dev/null || echo unknown)"
dirty="$(git -C "$here/../.." status --porcelain -- src Cargo.toml 2>/dev/null | head -1)"
[ -z "$dirty" ] || commit="$commit with uncommitted changes"
echo "nginx $nginx_version on 127.0.0.1:$port (http), :$tls_port (https, HTTP/1.1)," \
    ":$h2_port (https, HTTP/2)" >&2
"$bin" run --base "http://127.0.0.1:$port" --server-pid "$nginx_pid" "${python_args[@]}" \
    --tls-base "https://127.0.0.1:$tls_port" --h2-base "https://127.0.0.1:$h2_port" \
    --ca "$tls/ca.pem" \
    --note "$nginx_version, 1 worker process, keep-alive, static files (sendfile) and \`return 200\` for POST" \
    --note "asynchttp at commit $commit; run on $(date -u +%Y-%m-%d)" "$@"
