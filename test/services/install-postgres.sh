#!/bin/sh
# Installs the PostgreSQL server (Debian package) that test/services/postgres.ts starts
# throw-away clusters from. Idempotent: does nothing when a server is already installed.
set -eu
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
  echo "postgresql already installed: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql postgresql-client
# The package may start a system cluster on 5432; the tests never use it, so stop it if it runs.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _rest; do
    $SUDO pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
  done
fi
ls -d /usr/lib/postgresql/*/bin
