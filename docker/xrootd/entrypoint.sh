#!/bin/sh
# Prepares the SE's PKI and directories, then runs xrootd in the foreground as the xrootd account.
# Mount real PKI at /etc/grid-security (hostcert/hostkey, hashed certdir with the MedGrid CA + CRL,
# grid-mapfile, authdb). When none is mounted, a development PKI is generated once into that volume,
# including a robot certificate for the worker (MEDGRID_ROBOT_UID owns its key).
set -eu
gs=/etc/grid-security
robot_dn="${MEDGRID_ROBOT_DN:-/DC=ua/DC=medgrid/CN=MedGrid Robot}"
robot_user="${MEDGRID_ROBOT_ACCOUNT:-medgrid01}"
robot_uid="${MEDGRID_ROBOT_UID:-1000}"

mkdir -p "$gs/xrootd" "$gs/certificates" "$gs/medgrid"

if [ ! -f "$gs/xrootd/hostcert.pem" ]; then
  echo "xrootd-se: no host certificate mounted; generating a development PKI in $gs" >&2
  ca="$gs/medgrid"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout "$ca/ca.key" -out "$ca/ca.pem" \
    -subj "/DC=ua/DC=medgrid/CN=MedGrid Development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  issue() { # name subject extensions
    openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$ca/$1.key" -out "$ca/$1.csr" -subj "$2" 2>/dev/null
    printf '%b\n' "$3" >"$ca/$1.ext"
    openssl x509 -req -in "$ca/$1.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial -days 3650 -sha256 \
      -extfile "$ca/$1.ext" -out "$ca/$1.pem" 2>/dev/null
    rm -f "$ca/$1.csr" "$ca/$1.ext"
  }
  issue host "/DC=ua/DC=medgrid/CN=${MEDGRID_SE_HOSTNAME:-xrootd}" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${MEDGRID_SE_HOSTNAME:-xrootd},DNS:localhost,IP:127.0.0.1"
  issue robot "$robot_dn" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
  cp "$ca/host.pem" "$gs/xrootd/hostcert.pem"
  cp "$ca/host.key" "$gs/xrootd/hostkey.pem"
  cp "$ca/ca.pem" "$gs/certificates/medgrid-ca.pem"
  # An empty CRL, so that the certdir is a complete grid one (CA + CRL).
  mkdir -p "$ca/db" && : >"$ca/db/index.txt" && echo 01 >"$ca/db/crlnumber"
  printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s\ncrlnumber=%s\ndefault_md=sha256\ndefault_crl_days=3650\n' \
    "$ca/db/index.txt" "$ca/db/crlnumber" >"$ca/ca.cnf"
  openssl ca -config "$ca/ca.cnf" -gencrl -keyfile "$ca/ca.key" -cert "$ca/ca.pem" -out "$gs/certificates/medgrid-ca.r0" 2>/dev/null
  openssl rehash "$gs/certificates" >/dev/null
  chown "$robot_uid" "$ca/robot.key"
  chmod 600 "$ca/ca.key" "$ca/host.key" "$ca/robot.key"
  chmod 644 "$ca/robot.pem" "$ca/ca.pem"
fi

[ -f "$gs/grid-mapfile" ] || printf '"%s" %s\n' "$robot_dn" "$robot_user" >"$gs/grid-mapfile"
[ -f "$gs/xrootd/authdb" ] || printf 'u %s /store a\ng /medgrid/storage /store a\n' "$robot_user" >"$gs/xrootd/authdb"

chown xrootd:xrootd "$gs/xrootd/hostkey.pem" && chmod 600 "$gs/xrootd/hostkey.pem"
mkdir -p /data/store /var/spool/xrootd /run/xrootd
chown -R xrootd:xrootd /data /var/spool/xrootd /run/xrootd

export X509_CERT_DIR="$gs/certificates" X509_VOMS_DIR="${X509_VOMS_DIR:-$gs/vomsdir}"
cd /run/xrootd
exec xrootd -c /etc/xrootd/medgrid.cfg -R xrootd -n medgrid "$@"
