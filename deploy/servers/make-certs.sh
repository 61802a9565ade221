#!/bin/sh
# A private CA and a server certificate for the farm's NATS (TLS on the mesh).
#   sh deploy/servers/make-certs.sh [extra-host-or-ip ...]
# writes deploy/certs/ca.pem, ca-key.pem, server.pem, server-key.pem. The server certificate
# names `nats`, `localhost` and 127.0.0.1, plus every extra name given (the address remote
# agents use, e.g. 10.0.0.5 or nats.farm.lan). Copy ca.pem (never ca-key.pem) to each agent.
set -eu
DIR="$(cd "$(dirname "$0")/.." && pwd)/certs"
mkdir -p "$DIR" && cd "$DIR"
umask 077
if [ ! -f ca-key.pem ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=nano-banana farm CA" \
    -keyout ca-key.pem -out ca.pem
fi
SAN="DNS:nats,DNS:localhost,IP:127.0.0.1"
for h in "$@"; do
  case "$h" in
    *[!0-9.]*) SAN="$SAN,DNS:$h" ;;
    *) SAN="$SAN,IP:$h" ;;
  esac
done
openssl req -newkey rsa:2048 -nodes -subj "/CN=nats" -keyout server-key.pem -out server.csr
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$SAN" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
  -extfile server.ext -out server.pem
rm -f server.csr server.ext
# Certificates are public; the keys stay readable by their owner only (the NATS container runs as root).
chmod 644 ca.pem server.pem
echo "wrote $DIR: ca.pem server.pem server-key.pem (SAN $SAN)"
