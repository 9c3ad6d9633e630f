# Shell functions shared by the scripts that run real servers (conformance/*/run.sh,
# benches/peers/run.sh): sourced, not run.

apt_updated=""
# apt_install PACKAGE...: installs Debian packages (needs root), `apt-get update` first
# once. No service may start on installing: Debian's nginx, say, would listen on port 80 of
# every interface, where only the script's own server on 127.0.0.1 is wanted. policy-rc.d
# answering 101 forbids it (Debian's way), unless one is already in place.
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  local policy=/usr/sbin/policy-rc.d made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  local status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >/dev/null || status=$?
  [ -z "$made_policy" ] || rm -f "$policy"
  return "$status"
}

# throwaway_cert DIR CA_NAME CN SAN: a throwaway CA in DIR (ca.pem, ca.key, its common name
# CA_NAME) and a certificate signed by it (server.pem, server.key) for CN, its
# subjectAltName SAN (`IP:127.0.0.1`, `DNS:nginx.test`): ECDSA P-256, valid for two days.
# openssl's output goes to DIR/openssl.log, printed if it fails.
throwaway_cert() {
  local dir="$1" ca_name="$2" cn="$3" san="$4"
  cat >"$dir/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca
[dn]
CN = $ca_name
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
  cat >"$dir/server.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
  local log="$dir/openssl.log"
  {
    openssl req -x509 -new -config "$dir/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
      -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 &&
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=$cn" -keyout "$dir/server.key" -out "$dir/server.csr" &&
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem"
  } 2>>"$log" || { cat "$log" >&2; return 1; }
}
