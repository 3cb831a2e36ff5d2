#!/bin/sh
# Builds telemetrygen (the OpenTelemetry Collector contrib load generator) from the Go module
# proxy into .cache/bin/, for the OTLP receiver's integration tests (test/integration/otlp/).
# Idempotent: does nothing when that version is already built. Needs Go (1.24 or newer).
# Building takes a few minutes on two cores.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="${TELEMETRYGEN_VERSION:-v0.161.0}"
bin="$root/.cache/bin"
if [ -x "$bin/telemetrygen" ] && [ "$(cat "$bin/telemetrygen.version" 2>/dev/null || true)" = "$version" ]; then
  echo "telemetrygen $version already built in $bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-telemetrygen: Go is needed (https://go.dev/dl/)" >&2
  exit 1
fi
mkdir -p "$bin"
GOBIN="$bin" go install "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$version"
echo "$version" > "$bin/telemetrygen.version"
echo "telemetrygen $version built in $bin"
