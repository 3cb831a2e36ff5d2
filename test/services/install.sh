#!/usr/bin/env bash
# Installs the real services the integration suites use (PostgreSQL, Apache Kafka + kcat,
# Prometheus, telemetrygen), each by its idempotent test/services/install-*.sh. `npm test`
# runs this first (the `pretest` script), so `npm ci && npm test` works on a fresh machine;
# on a machine that has them all it only checks and returns.
set -euo pipefail
cd "$(dirname "$0")"
for script in install-*.sh; do
  echo "-- test/services/$script"
  bash "$script"
done
