#!/bin/sh
# Installs Prometheus and promtool (Debian package `prometheus`) that test/services/prometheus.ts
# starts throw-away servers from. Idempotent: does nothing when both binaries are present.
set -eu
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  echo "prometheus already installed: $(prometheus --version 2>&1 | head -n 1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
# The package may start a system server on :9090; the tests never use it, so stop it if it runs.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  $SUDO systemctl stop prometheus || true
fi
prometheus --version 2>&1 | head -n 1
promtool --version 2>&1 | head -n 1
