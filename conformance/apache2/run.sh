#!/usr/bin/env bash
# Digest credentials against Apache's mod_auth_digest with AuthDigestNcCheck On, in one
# command:
#
#   conformance/apache2/run.sh
#
# Apache keeps a nonce count per client (the opaque of its challenge) and takes a count
# only if it is above the highest it took on the client's newest nonce in use: requests
# that share a nonce and arrive out of order are refused, and once a newer nonce of the
# client is used the older ones are. This runs examples/digest_check.rs (25 rounds of 8
# concurrent GETs on one Http) against it and exits 1 unless all 200 end in 200 with at
# most 2 requests per URL.
#
# Installs apache2 and apache2-utils from Debian when apache2 is missing (needs root and
# apt). The server runs from a config of its own in a temporary folder, on 127.0.0.1 and a
# free port, in the foreground of this script, and is stopped at the end; its logs are
# printed on failure, and kept with KEEP=1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

apache="$(command -v apache2 || echo /usr/sbin/apache2)"
if [ ! -x "$apache" ]; then
  echo "apache2: installing apache2 from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2 apache2-utils >/dev/null
  apache="$(command -v apache2 || echo /usr/sbin/apache2)"
fi
modules=/usr/lib/apache2/modules

(cd "$repo" && cargo build --quiet --example digest_check)
check="${CARGO_TARGET_DIR:-$repo/target}/debug/examples/digest_check"

dir="$(mktemp -d "${TMPDIR:-/tmp}/apache2-digest.XXXXXX")"
pid=""
stop() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then
    echo "apache2: logs kept in $dir" >&2
  else
    rm -rf "$dir"
  fi
}
trap stop EXIT

# The realm, user and password digest_check uses; the user file as htdigest writes it.
realm="asynchttp conformance"
mkdir -p "$dir/htdocs/private"
echo "private" >"$dir/htdocs/private/doc.txt"
ha1="$(printf '%s' "alice:$realm:s3cret" | md5sum | cut -d' ' -f1)"
echo "alice:$realm:$ha1" >"$dir/users"
# Apache's children drop root for this user and read the files as it.
chmod -R a+rX "$dir"
run_as=""
if [ "$(id -u)" = 0 ]; then
  run_as="User www-data
Group www-data"
fi

write_config() {
  cat >"$dir/httpd.conf" <<EOF
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$1
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error.log"
LogLevel warn
$run_as
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authn_file_module $modules/mod_authn_file.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_user_module $modules/mod_authz_user.so
LoadModule auth_digest_module $modules/mod_auth_digest.so
LogFormat "%>s %U%q" check
CustomLog "$dir/access.log" check
DocumentRoot "$dir/htdocs"
# Room for every client's nonce count: none is dropped to make room during the run.
AuthDigestShmemSize 1M
<Directory "$dir/htdocs/private">
  AuthType Digest
  AuthName "$realm"
  AuthDigestProvider file
  AuthUserFile "$dir/users"
  AuthDigestNcCheck On
  Require valid-user
</Directory>
EOF
}

# A free port: a random one, another if Apache cannot listen there.
port=""
for _ in $(seq 1 20); do
  try=$((20000 + RANDOM % 40000))
  write_config "$try"
  : >"$dir/error.log"
  rm -f "$dir/httpd.pid"
  # Its own output (a port in use, say) goes to a file, shown if it never starts.
  "$apache" -d "$dir" -f "$dir/httpd.conf" -DFOREGROUND >"$dir/apache.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do
    # Listening once its pid file is written; a port in use ends it instead.
    if [ -s "$dir/httpd.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$try") 2>/dev/null; then
      port=$try
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
  echo "apache2: did not start" >&2
  cat "$dir/apache.out" "$dir/error.log" >&2
  exit 1
fi
"$apache" -v | sed -n 1p

status=0
"$check" "http://127.0.0.1:$port/private/doc.txt" "$dir/access.log" || status=$?
refused="$(grep -c 'nonce-count check failed' "$dir/error.log" || true)"
echo "server: $refused nonce counts refused"
if [ "$status" != 0 ]; then
  echo "--- error.log (last 20 lines)" >&2
  tail -n 20 "$dir/error.log" >&2
fi
exit "$status"
