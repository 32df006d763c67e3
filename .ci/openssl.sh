#!/usr/bin/env bash
# Install OpenSSL's command (Debian package) when it is missing, so the test of the docs'
# local-certificate recipe runs in CI (under CI=true it fails rather than skips without it).
set -euo pipefail

if command -v openssl >/dev/null 2>&1; then
  exit 0
fi
echo "openssl.sh: installing openssl (apt-get)" >&2
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends openssl >&2
command -v openssl >/dev/null
