#!/usr/bin/env bash
# A real Apache Kafka 4.x broker for ledgerline's tests: single node, KRaft (broker and
# controller in one JVM), the jars fetched once from Maven Central with Maven.
#
#   kafka.sh fetch              download the jars (cached in .cache/kafka/<version>-<pom hash>/libs); prints the dir
#   kafka.sh start DIR          format DIR (first time only) and start; prints host:port when ready
#   kafka.sh stop DIR           stop gracefully (SIGTERM, then SIGKILL after 30 s)
#   kafka.sh kill DIR           SIGKILL, as a crash would
#
# Environment: KAFKA_PORT / KAFKA_CONTROLLER_PORT (default: free ports, kept in DIR for restarts),
# KAFKA_WATCH_PID (stop the broker when that process is gone, so a crashed test run leaves
# nothing behind), KAFKA_SASL_PLAIN=user:password (also a SASL_PLAINTEXT listener; its address
# goes to DIR/sasl_broker), KAFKA_TLS_DIR (also an SSL listener with DIR/server.pem; its address
# goes to DIR/tls_broker), KAFKA_HEAP (default -Xmx512m: the machine is shared), JAVA.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pom="$here/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
# Keyed by the pom's content too: editing it (another dependency) fetches afresh.
cache="${KAFKA_CACHE:-$root/.cache/kafka}/$version-$(sha256sum "$pom" | cut -c1-12)"
libs="$cache/libs"
java="${JAVA:-java}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch() {
  if [[ -f "$libs/.complete" ]]; then echo "$libs"; return; fi
  command -v mvn >/dev/null || die "mvn is not installed (apt-get install maven)"
  mkdir -p "$cache"
  # Test files start brokers in parallel: one fetches, the others wait for it.
  (
    flock 9
    if [[ ! -f "$libs/.complete" ]]; then
      rm -rf "$libs"
      mkdir -p "$libs"
      mvn -q -B -f "$pom" dependency:copy-dependencies \
        -DoutputDirectory="$libs" -DincludeScope=runtime >&2 || die "maven could not fetch Kafka $version"
      touch "$libs/.complete"
    fi
  ) 9>"$cache/.lock"
  echo "$libs"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pid_of() { [[ -f "$1/kafka.pid" ]] && cat "$1/kafka.pid" || true; }

running() { local pid; pid="$(pid_of "$1")"; [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }

start() {
  local dir="$1"
  fetch >/dev/null
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  running "$dir" && die "a broker is already running in $dir (pid $(pid_of "$dir"))"

  local port cport sport tport
  if [[ -f "$dir/ports" ]]; then
    read -r port cport sport tport <"$dir/ports"
  else
    port="${KAFKA_PORT:-$(free_port)}"
    cport="${KAFKA_CONTROLLER_PORT:-$(free_port)}"
    sport="$(free_port)"
    tport="$(free_port)"
    echo "$port $cport $sport $tport" >"$dir/ports"
  fi

  # KAFKA_SASL_PLAIN=user:password adds a SASL_PLAINTEXT listener (PLAIN) on its own port.
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  local sasl=""
  if [[ -n "${KAFKA_SASL_PLAIN:-}" ]]; then
    local user="${KAFKA_SASL_PLAIN%%:*}" password="${KAFKA_SASL_PLAIN#*:}"
    listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$sport"
    advertised="$advertised,SASL_PLAINTEXT://127.0.0.1:$sport"
    protocols="$protocols,SASL_PLAINTEXT:SASL_PLAINTEXT"
    sasl="sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$user=\"$password\";"
    echo "127.0.0.1:$sport" >"$dir/sasl_broker"
  fi
  # KAFKA_TLS_DIR holding server.pem (PKCS#8 key, then certificate) adds an SSL listener.
  local tls=""
  if [[ -n "${KAFKA_TLS_DIR:-}" ]]; then
    listeners="$listeners,SSL://127.0.0.1:$tport"
    advertised="$advertised,SSL://127.0.0.1:$tport"
    protocols="$protocols,SSL:SSL"
    tls="ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_TLS_DIR/server.pem"
    echo "127.0.0.1:$tport" >"$dir/tls_broker"
  fi

  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
$sasl
$tls
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Small thread pools: the test machine has two cores shared with everything else.
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
EOF

  cat >"$dir/log4j2.properties" <<EOF
appender.file.type=File
appender.file.name=file
appender.file.fileName=$dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=file
logger.server.name=kafka.server.KafkaRaftServer
logger.server.level=INFO
EOF

  local cp="$libs/*"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster
    # `=` form: a base64url id may start with "-", which would read as an option.
    cluster="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    "$java" -Xmx256m -cp "$cp" -Dlog4j2.configurationFile="$dir/log4j2.properties" \
      kafka.tools.StorageTool format --cluster-id="$cluster" --config="$dir/server.properties" >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; die "formatting storage failed"; }
  fi

  : >"$dir/server.log"
  # setsid: the broker outlives the shell that started it; the pid file and the watchdog end it.
  setsid "$java" ${KAFKA_HEAP:--Xmx512m -Xms128m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/kafka.pid"

  if [[ -n "${KAFKA_WATCH_PID:-}" ]]; then
    (
      while kill -0 "$KAFKA_WATCH_PID" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 2; done
      kill -9 "$pid" 2>/dev/null || true
    ) >/dev/null 2>&1 </dev/null &
    disown
  fi

  local waited=0
  until grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$dir/server.log" "$dir/stdout.log" >&2 || true
      die "the broker exited during startup"
    fi
    ((waited++ < 1200)) || { kill -9 "$pid" 2>/dev/null; die "the broker did not start within 120 s"; }
    sleep 0.1
  done
  echo "127.0.0.1:$port"
}

stop() {
  local dir="$1" signal="$2" pid
  pid="$(pid_of "$dir")"
  [[ -n "$pid" ]] || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited++ == 300)); then kill -9 "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  rm -f "$dir/kafka.pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) [[ -n "${2:-}" ]] || die "usage: kafka.sh start DIR"; start "$2" ;;
  stop) [[ -n "${2:-}" ]] || die "usage: kafka.sh stop DIR"; stop "$2" TERM ;;
  kill) [[ -n "${2:-}" ]] || die "usage: kafka.sh kill DIR"; stop "$2" KILL ;;
  *) die "usage: kafka.sh fetch | start DIR | stop DIR | kill DIR" ;;
esac
