#!/usr/bin/env bash
# Install Graphviz (Debian package) when its dot program is missing, so the
# `stepchart diagram --format svg|png` tests run in CI (under CI=true they fail rather
# than skip without it). Safe to run again.
set -euo pipefail

if command -v dot >/dev/null 2>&1; then
  exit 0
fi
echo "graphviz.sh: installing graphviz (apt-get)" >&2
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends graphviz >&2
command -v dot >/dev/null
