#!/bin/sh
# Installs what the Kafka tests need and fetches the broker: Java 17 (runs the broker), Maven
# (fetches the Apache Kafka jars from Maven Central), kcat (the independent producer/consumer),
# openssl (test certificates for the TLS listener).
# Idempotent: installs only what is missing; the jars are cached in .cache/kafka/.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
missing=""
command -v java >/dev/null 2>&1 || missing="$missing openjdk-17-jre-headless"
command -v mvn >/dev/null 2>&1 || missing="$missing maven"
command -v kcat >/dev/null 2>&1 || missing="$missing kcat"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
java -version 2>&1 | head -n 1
kcat -V 2>&1 | head -n 1
bash "$here/kafka.sh" fetch
