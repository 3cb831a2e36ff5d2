#!/bin/sh
# Builds the Go reference verifier from the Go module proxy (go.sum pins every module).
# Output: test/go/ledgerverify/ledgerverify. The ledger integration tests call this before
# they run (CI needs nothing else: Go is on the machine); re-running is cheap, go caches it.
# Built under a unique name and renamed, so test workers building at once never run a half
# written binary.
set -eu
cd "$(dirname "$0")"
export GOFLAGS="${GOFLAGS:--mod=readonly}"
tmp="ledgerverify.tmp.$$"
trap 'rm -f "$tmp"' EXIT
go build -o "$tmp" .
mv -f "$tmp" ledgerverify
