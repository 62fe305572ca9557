#!/usr/bin/env bash
# HTTPS delivery interop with a throwaway test CA, trusted only inside a private mount namespace:
# the system CA bundle is bind-mounted over with (system bundle + test CA), which is where
# URLSession (libcurl) looks. Usage: tools/delivery_interop.sh path/to/argus-events
set -euo pipefail
binary=$1
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$root/.venv/bin/python"
[ -x "$python" ] || { python3 -m venv "$root/.venv"; python="$root/.venv/bin/python"; }
"$python" -c 'import standardwebhooks' 2>/dev/null || "$root/.venv/bin/pip" install -q --disable-pip-version-check standardwebhooks
dir=$(mktemp -d /tmp/argus-ca-XXXXXX)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Argus Test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" > "$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
  -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
# A certificate for the same names signed by nobody the bundle trusts (self-signed): deliveries must fail.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" -keyout "$dir/untrusted.key" -out "$dir/untrusted.pem" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
bundle=/etc/ssl/certs/ca-certificates.crt
cat "$bundle" "$dir/ca.pem" > "$dir/bundle.pem"
unshare -m bash -c "mount --bind '$dir/bundle.pem' '$bundle' && '$python' '$root/tools/delivery_interop.py' '$binary' '$dir/server.pem' '$dir/server.key' '$dir/untrusted.pem' '$dir/untrusted.key'"
