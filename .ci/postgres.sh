#!/usr/bin/env bash
# Install PostgreSQL (Debian package) if needed and start a cluster for the tests, on
# loopback only. Prints the variables to export on standard output (everything else
# goes to standard error), so CI can do:
#
#   eval "$(.ci/postgres.sh)"
#
# which sets STEPCHART_PG_URL (the server) and STEPCHART_REQUIRE_PG=1 (PostgreSQL tests
# fail instead of skipping). Running it again reuses the cluster if it is up.
#
# Settings: STEPCHART_PG_DIR (cluster folder, default /tmp/stepchart-ci-pg),
# STEPCHART_PG_PORT (default 54329).
set -euo pipefail

PGDIR="${STEPCHART_PG_DIR:-/tmp/stepchart-ci-pg}"
PORT="${STEPCHART_PG_PORT:-54329}"
URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"

find_bin() {
  local name="$1" found
  found="$(command -v "$name" 2>/dev/null || true)"
  if [ -z "$found" ]; then
    found="$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
  printf '%s' "$found"
}

if [ -z "$(find_bin initdb)" ]; then
  echo "postgres.sh: installing postgresql (apt-get)" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
INITDB="$(find_bin initdb)"
PG_CTL="$(find_bin pg_ctl)"
PG_ISREADY="$(find_bin pg_isready)"

# The server may not run as root: use the postgres account the package creates.
RUN=()
if [ "$(id -u)" = 0 ]; then
  RUN=(runuser -u postgres --)
fi

if "$PG_ISREADY" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
  echo "postgres.sh: a server already answers on 127.0.0.1:${PORT}" >&2
else
  mkdir -p "$PGDIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PGDIR"; fi
  chmod 700 "$PGDIR"
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    "${RUN[@]}" "$INITDB" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C >&2
  fi
  "${RUN[@]}" "$PG_CTL" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p ${PORT} -k ${PGDIR} -c max_connections=200" start >&2
fi

echo "export STEPCHART_PG_URL=${URL}"
echo "export STEPCHART_REQUIRE_PG=1"
