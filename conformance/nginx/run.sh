#!/usr/bin/env bash
# Content codings, the Unix socket, pinned names and bandwidth caps against nginx, in one
# command:
#
#   conformance/nginx/run.sh
#
# nginx compresses on the fly with its gzip filter and Debian's brotli filter module, and
# prefers br to gzip when both are on and the client offers both. This runs
# examples/nginx_check.rs against it, twice: built by default (br and zstd offered) and
# built with --no-default-features (gzip and deflate only). It checks that a multi-MiB text
# file and a small JSON file come back byte for byte, read whole and streamed to a file,
# from locations with br, gzip, and both (br by default, gzip without the brotli feature),
# with the coding nginx applied kept as -content-encoding; that a body decoding past
# max_body_size fails with BodyTooLarge; that requests over nginx's Unix socket work set on
# the client and on one request, follow nginx's 302 over it, share one connection (nginx's
# $connection and $connection_requests), and fail with Error::Connect for a missing
# socket; that a name pinned with resolve reaches nginx under that name in Host, over http
# and over https with a throwaway CA's certificate for it, while another name pinned to the
# same address fails the certificate check; and that 2 MiB capped at 1 MiB/s takes at
# least 1.5 s, four times the uncapped fetch at least. Exits 1 if any check fails.
#
# Installs nginx, libnginx-mod-http-brotli-filter and openssl from Debian when missing
# (needs root and apt; no service is started). nginx runs from a config of its own in a
# temporary folder, on 127.0.0.1 on two free ports (http, https) and on a Unix socket
# there, in the foreground of this script, and is stopped at the end; its logs are printed
# on failure, and kept with KEEP=1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# The checker must reach nginx directly, whatever proxy the environment names.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

. "$repo/conformance/lib.sh" # apt_install, throwaway_cert

nginx="$(command -v nginx || echo /usr/sbin/nginx)"
brotli_module=/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so
missing=()
[ -x "$nginx" ] || missing+=(nginx)
[ -f "$brotli_module" ] || missing+=(libnginx-mod-http-brotli-filter)
command -v openssl >/dev/null || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "nginx: installing ${missing[*]} from Debian" >&2
  apt_install "${missing[@]}"
  nginx="$(command -v nginx || echo /usr/sbin/nginx)"
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/nginx-check.XXXXXX")"
pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -QUIT "$pid" 2>/dev/null || true # graceful: the master ends its workers and itself
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then
    echo "nginx: logs kept in $dir" >&2
  else
    rm -rf "$dir"
  fi
}
trap stop EXIT
trap 'exit 1' INT TERM

# The checker, built by default and without the default features: both land on the same
# path, so each is copied out as it is built.
built="${CARGO_TARGET_DIR:-$repo/target}/debug/examples/nginx_check"
(cd "$repo" && cargo build --quiet --example nginx_check)
cp "$built" "$dir/check-default"
(cd "$repo" && cargo build --quiet --no-default-features --example nginx_check)
cp "$built" "$dir/check-no-default"

# What nginx serves: a multi-MiB text file (log-like lines, compressible as text is), a
# small JSON file, and 2 MiB of random bytes that no filter compresses. nginx's workers
# drop root for nobody: they must be able to read them.
chmod 755 "$dir"
mkdir -m 755 "$dir/www" "$dir/tls"
awk 'BEGIN {
  srand(7)
  split("GET POST PUT DELETE", method, " ")
  for (i = 1; i <= 60000; i++)
    printf "2024-05-01T12:%02d:%02d 10.0.%d.%d %s /items/%d?page=%d %d %d bytes\n",
      int(i / 60) % 60, i % 60, int(rand() * 256), int(rand() * 256),
      method[1 + int(rand() * 4)], int(rand() * 100000), int(rand() * 50),
      (rand() < 0.9 ? 200 : 404), int(rand() * 65536)
}' >"$dir/www/big.txt"
{
  printf '{"items": ['
  for i in $(seq 1 40); do
    [ "$i" = 1 ] || printf ', '
    printf '{"id": %d, "name": "item %d", "tags": ["nginx", "conformance"]}' "$i" "$i"
  done
  printf ']}\n'
} >"$dir/www/small.json"
head -c 2097152 /dev/urandom >"$dir/www/2m.bin"
chmod 644 "$dir"/www/*

# A throwaway CA, and a certificate for nginx.test alone signed by it (ECDSA P-256, valid
# for two days, gone with $dir); the checker trusts ca.pem. nginx's master reads the key
# as root.
tls="$dir/tls"
throwaway_cert "$tls" "asynchttp nginx-check throwaway CA" nginx.test DNS:nginx.test
chmod 600 "$tls"/*.key

write_config() {
  local port="$1" tls_port="$2"
  cat >"$dir/nginx.conf" <<CONF
load_module $brotli_module;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
    types {
        text/plain txt;
        application/json json;
        application/octet-stream bin;
    }
    default_type application/octet-stream;
    # One line per request: the checker finds its own by the query, check=NAME.
    log_format check '\$request_uri|\$connection|\$connection_requests|\$host|\$http_host|\$http_accept_encoding|\$sent_http_content_encoding|\$status|\$body_bytes_sent';
    keepalive_timeout 30s;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    root $dir/www;
    # Every filter compresses what it is given, whatever its size or the client's HTTP
    # version; only where a location turns it on.
    gzip_types text/plain application/json;
    gzip_http_version 1.0;
    gzip_min_length 1;
    brotli_types text/plain application/json;
    brotli_comp_level 6;
    brotli_min_length 1;
    server {
        listen 127.0.0.1:$port;
        access_log $dir/tcp.log check;
        location / { }
        location /br/ { alias $dir/www/; brotli on; }
        location /gzip/ { alias $dir/www/; gzip on; }
        location /both/ { alias $dir/www/; brotli on; gzip on; }
    }
    server {
        listen unix:$dir/nginx.sock;
        access_log $dir/unix.log check;
        location / { }
        location = /moved { return 302 /small.json?check=\${arg_check}-followed; }
    }
    server {
        listen 127.0.0.1:$tls_port ssl;
        access_log $dir/tls.log check;
        ssl_certificate $tls/server.pem;
        ssl_certificate_key $tls/server.key;
        location / { }
    }
}
CONF
}

# Two free ports: random ones nothing answers on, others if nginx cannot listen there.
# nginx writes its pid file once it listens; a port taken meanwhile ends it instead.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port="" tls_port=""
for _ in $(seq 1 10); do
  try=$((20000 + RANDOM % 40000)) tls_try=$((20000 + RANDOM % 40000))
  [ "$try" != "$tls_try" ] && free "$try" && free "$tls_try" || continue
  write_config "$try" "$tls_try"
  rm -f "$dir/nginx.pid" "$dir/nginx.sock"
  "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' \
    >"$dir/nginx.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if [ -s "$dir/nginx.pid" ] && [ -S "$dir/nginx.sock" ]; then
      port=$try tls_port=$tls_try
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] && break
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
done
if [ -z "$port" ]; then
  echo "nginx: did not start" >&2
  cat "$dir/nginx.out" "$dir/error.log" >&2 2>/dev/null || true
  exit 1
fi
echo "$("$nginx" -v 2>&1 | sed 's/^nginx version: //') with the brotli filter on 127.0.0.1:$port (http)," \
  ":$tls_port (https, nginx.test) and unix:$dir/nginx.sock"

status=0
for build in default no-default; do
  echo "--- the checker built with $build features"
  # Bounded: every request of the checker has its own 30 s timeout.
  timeout 300 "$dir/check-$build" "$dir" "$port" "$tls_port" || status=1
done
if [ "$status" != 0 ]; then
  echo "--- error.log (last 20 lines)" >&2
  tail -n 20 "$dir/error.log" >&2
  for log in tcp unix tls; do
    echo "--- $log.log (last 10 lines)" >&2
    tail -n 10 "$dir/$log.log" >&2 2>/dev/null || true
  done
fi
exit "$status"
