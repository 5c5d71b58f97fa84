#!/usr/bin/env bash
# The compose stack's internal certificate authority and PostgreSQL's server certificate.
#
# Run by the `certs` one-shot service of docker-compose.airflow.yml before PostgreSQL starts.
# Three folders, each a volume of its own, so that every service sees only what it needs:
#   $CA_KEY_DIR  ca.key                  the CA's private key: this service only
#   $CA_DIR      ca.crt                  the CA certificate: every PostgreSQL client
#                                        (sslmode=verify-full sslrootcert=.../ca.crt)
#   $SERVER_DIR  server.crt, server.key  PostgreSQL's certificate (SAN = $PG_TLS_HOSTNAME)
#                                        and key, owned by the postgres image's user
# Idempotent: a valid certificate with more than 30 days left is kept, so a restart does not
# re-key the server; delete the volumes' files (or let them near expiry) to renew.
set -euo pipefail

CA_KEY_DIR=${CA_KEY_DIR:-/tls/ca-key}
CA_DIR=${CA_DIR:-/tls/ca}
SERVER_DIR=${SERVER_DIR:-/tls/postgres}
HOSTNAME_IN_CERT=${PG_TLS_HOSTNAME:-postgres}
# The uid/gid the official postgres (Debian) image runs the server as.
PG_OWNER=${PG_OWNER:-999:999}
RENEW_BEFORE_SECONDS=$((30 * 24 * 3600))

mkdir -p "$CA_KEY_DIR" "$CA_DIR" "$SERVER_DIR"

if [[ -s "$CA_DIR/ca.crt" && -s "$SERVER_DIR/server.crt" && -s "$SERVER_DIR/server.key" ]] \
  && openssl x509 -checkend "$RENEW_BEFORE_SECONDS" -noout -in "$SERVER_DIR/server.crt" >/dev/null \
  && openssl verify -CAfile "$CA_DIR/ca.crt" "$SERVER_DIR/server.crt" >/dev/null; then
  echo "PostgreSQL certificate kept: $(openssl x509 -noout -enddate -in "$SERVER_DIR/server.crt")"
  exit 0
fi

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ ! -s "$CA_KEY_DIR/ca.key" || ! -s "$CA_DIR/ca.crt" ]] \
  || ! openssl x509 -checkend "$RENEW_BEFORE_SECONDS" -noout -in "$CA_DIR/ca.crt" >/dev/null; then
  openssl req -x509 -new -nodes -days 3650 \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$CA_KEY_DIR/ca.key" -out "$CA_DIR/ca.crt" \
    -subj "/CN=civic platform internal CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  echo "new internal CA: $(openssl x509 -noout -subject -enddate -in "$CA_DIR/ca.crt")"
fi

cat >"$work/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$HOSTNAME_IN_CERT
EXT
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=$HOSTNAME_IN_CERT"
openssl x509 -req -in "$work/server.csr" -days 825 -sha256 \
  -CA "$CA_DIR/ca.crt" -CAkey "$CA_KEY_DIR/ca.key" -CAcreateserial -CAserial "$CA_KEY_DIR/ca.srl" \
  -extfile "$work/server.ext" -out "$work/server.crt"
openssl verify -CAfile "$CA_DIR/ca.crt" "$work/server.crt" >/dev/null

install -m 0600 "$work/server.key" "$SERVER_DIR/server.key"
install -m 0644 "$work/server.crt" "$SERVER_DIR/server.crt"
chmod 0644 "$CA_DIR/ca.crt"
chmod 0755 "$CA_DIR"
# Only when run as root (the compose service): PostgreSQL refuses a key it does not own.
if [[ $(id -u) -eq 0 ]]; then
  chown "$PG_OWNER" "$SERVER_DIR/server.key" "$SERVER_DIR/server.crt"
fi
echo "PostgreSQL certificate for $HOSTNAME_IN_CERT: $(openssl x509 -noout -enddate -in "$SERVER_DIR/server.crt")"
