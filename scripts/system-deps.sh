#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need (real peers: Chromium, dcmtk, Orthanc, XRootD, davix).
# Idempotent: does nothing when every package is already there.
set -euo pipefail
PKGS=(chromium fonts-dejavu-core dcmtk orthanc orthanc-dicomweb dicom3tools libgdcm-tools
  xrootd-server xrootd-server-plugins xrootd-plugins xrootd-voms-plugins xrootd-client voms-clients
  davix wrk docker-compose openssl curl ca-certificates procps psmisc)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]}; run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts Orthanc as a service on install; the tests run their own instances.
if command -v systemctl >/dev/null 2>&1; then systemctl stop orthanc >/dev/null 2>&1 || true; fi
pkill -x Orthanc >/dev/null 2>&1 || true
