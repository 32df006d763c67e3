#!/usr/bin/env bash
# Install the Debian package PACKAGE when the program COMMAND is missing, so the tests that
# need that outside program run in CI (under CI=true they fail rather than skip without
# it): `bash .ci/program.sh dot graphviz`, `bash .ci/program.sh openssl openssl`. Safe to
# run again.
set -euo pipefail
command_name=$1
package=$2

if command -v "$command_name" >/dev/null 2>&1; then
  exit 0
fi
echo "program.sh: installing $package for $command_name (apt-get)" >&2
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends "$package" >&2
command -v "$command_name" >/dev/null
