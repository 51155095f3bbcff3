# shellcheck shell=bash
# Kafka module for scripts/services.sh: one KRaft broker (combined broker + controller) on loopback,
# built from Maven Central jars (scripts/kafka/pom.xml) and run with `java`. Sourced, never executed.
#
#   kafka_up      resolve the jars (cached), format the log dir once, start the broker, wait until it serves
#   kafka_down    stop the broker this module started (idempotent)
#   kafka_status  one line: name, address, up/down, version
#   kafka_env     export KAFKA_BROKERS (host:port), KAFKA_VERSION (own broker only), and KAFKA_LIBS / KAFKA_JAVA so
#                 tests can spawn a throwaway broker from the same jars (test/helpers/kafka-broker.ts)
#
# Settings (env): KAFKA_BROKERS given by the caller => that server is used, nothing is built or started.
#   SKALDS_KAFKA_VERSION (candidates, default "4.1.0 4.1.2 4.1.1 4.0.2"), SKALDS_KAFKA_PORT (default 19092; controller on port+1),
#   SKALDS_KAFKA_HEAP (default 512m).
# State: $SKALDS_SERVICES_DIR/kafka/{data,server.properties,broker.pid,broker.log};
# jars:  $SKALDS_BUILD_CACHE/kafka-<version>/libs.

if [[ -z "${_SKALDS_COMMON_LOADED:-}" ]]; then
  # shellcheck source=../lib/common.sh
  if [[ -f "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh" ]]; then
    source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
  else
    # Stand-alone use (sourced without services.sh and its lib): minimal equivalents.
    SKALDS_SERVICES_DIR="${SKALDS_SERVICES_DIR:-${HOME:-/root}/.cache/skalds/services}"
    SKALDS_BUILD_CACHE="${SKALDS_BUILD_CACHE:-${HOME:-/root}/.cache/skalds/build}"
    export SKALDS_SERVICES_DIR SKALDS_BUILD_CACHE
    log() { printf '[services] %s\n' "$*" >&2; }
    warn() { printf '[services] WARNING: %s\n' "$*" >&2; }
    die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }
    emit_export() { printf 'export %s=%q\n' "$1" "$2"; }
    given_var() { local name="$1" default="$2"; [[ -n "${!name:-}" && "${!name}" != "$default" ]]; }
  fi
fi

_KAFKA_MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Candidate versions, most wanted first: one that Maven Central (or the mirror in front of it) stops serving is
# skipped, never waited on. The version in use is the first one already resolved into the build cache.
KAFKA_MODULE_VERSIONS="${SKALDS_KAFKA_VERSION:-4.1.0 4.1.2 4.1.1 4.0.2}"
KAFKA_LOG4J_VERSIONS="${SKALDS_KAFKA_LOG4J_VERSION:-2.24.3 2.25.3 2.26.1}"
_kafka_pick() {
  local v
  for v in $KAFKA_MODULE_VERSIONS; do
    [[ -f "$SKALDS_BUILD_CACHE/kafka-$v/libs/.complete" ]] && { printf '%s' "$v"; return 0; }
  done
  printf '%s' "${KAFKA_MODULE_VERSIONS%% *}"
}
KAFKA_MODULE_VERSION="$(_kafka_pick)"
KAFKA_MODULE_PORT="${SKALDS_KAFKA_PORT:-19092}"
KAFKA_MODULE_HEAP="${SKALDS_KAFKA_HEAP:-512m}"

_kafka_address() { printf '127.0.0.1:%s' "$KAFKA_MODULE_PORT"; }
_kafka_state() { printf '%s/kafka' "$SKALDS_SERVICES_DIR"; }
_kafka_libs() { printf '%s/kafka-%s/libs' "$SKALDS_BUILD_CACHE" "$KAFKA_MODULE_VERSION"; }
_kafka_external() { given_var KAFKA_BROKERS "$(_kafka_address)"; }

# True when something accepts TCP connections on host:port.
_kafka_port_open() {
  local host="${1%:*}" port="${1##*:}"
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
}

_kafka_pid_alive() {
  local pidfile
  pidfile="$(_kafka_state)/broker.pid"
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Resolves the broker jars once into the build cache (a marker file records completion): the first candidate
# version (with the first log4j candidate) that resolves.
kafka_build() {
  [[ -f "$(_kafka_libs)/.complete" ]] && return 0
  command -v java >/dev/null || die "kafka: java not found (Java 17+ is required for the Kafka $KAFKA_MODULE_VERSION broker)"
  command -v mvn >/dev/null || die "kafka: mvn not found (needed once to fetch the broker jars from Maven Central)"
  local v l libs
  for v in $KAFKA_MODULE_VERSIONS; do
    KAFKA_MODULE_VERSION="$v"
    libs="$(_kafka_libs)"
    for l in $KAFKA_LOG4J_VERSIONS; do
      log "kafka: resolving kafka_2.13:$v (log4j $l) and its runtime dependencies into $libs"
      rm -rf "$libs.tmp"
      if mvn -q -B -U -f "$_KAFKA_MODULE_DIR/../kafka/pom.xml" dependency:copy-dependencies \
        -Dkafka.version="$v" -Dlog4j.version="$l" -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >&2; then
        rm -rf "$libs"
        mv "$libs.tmp" "$libs"
        touch "$libs/.complete"
        return 0
      fi
      warn "kafka: kafka_2.13:$v with log4j $l did not resolve; trying the next candidate"
    done
  done
  die "kafka: none of kafka_2.13 $KAFKA_MODULE_VERSIONS resolved from Maven Central (mvn output above)"
}

# Writes the log4j2 config and server.properties of a broker: kafka_write_config DIR PORT
# (controller listener on PORT+1). Also used by tests through KAFKA_LIBS to spawn their own broker.
kafka_write_config() {
  local dir="$1" port="$2" cport=$(($2 + 1))
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=16777216
PROPS
  cat >"$dir/log4j2.properties" <<'LOG'
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
LOG
}

_kafka_java_opts() {
  local dir="$1"
  printf '%s\n' "-Xms128m" "-Xmx$KAFKA_MODULE_HEAP" "-XX:+UseG1GC" "-XX:MaxGCPauseMillis=20" \
    "-Djava.awt.headless=true" "-Dkafka.logs.dir=$dir" "-Dlog4j2.configurationFile=$dir/log4j2.properties"
}

kafka_up() {
  if _kafka_external; then
    log "kafka: using the given KAFKA_BROKERS=$KAFKA_BROKERS"
    return 0
  fi
  local state address libs
  state="$(_kafka_state)"
  address="$(_kafka_address)"
  if _kafka_pid_alive && _kafka_port_open "$address"; then
    log "kafka: already running on $address (pid $(cat "$state/broker.pid"))"
    return 0
  fi
  if _kafka_port_open "$address"; then
    die "kafka: port $KAFKA_MODULE_PORT is taken by a process this module did not start; set SKALDS_KAFKA_PORT or KAFKA_BROKERS"
  fi
  kafka_build
  libs="$(_kafka_libs)"
  mkdir -p "$state"
  kafka_write_config "$state" "$KAFKA_MODULE_PORT"
  local -a opts
  mapfile -t opts < <(_kafka_java_opts "$state")
  if [[ ! -f "$state/data/meta.properties" ]]; then
    log "kafka: formatting the KRaft log dir $state/data"
    java "${opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format \
      -t "$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null)" \
      -c "$state/server.properties" >"$state/format.log" 2>&1 ||
      die "kafka: storage format failed: $(tail -5 "$state/format.log")"
  fi
  log "kafka: starting broker $KAFKA_MODULE_VERSION on $address (heap $KAFKA_MODULE_HEAP)"
  [[ -f "$state/server.log" ]] && mv -f "$state/server.log" "$state/server.log.1"
  # Every inherited fd above 2 is closed first: the broker must not hold services.sh's flock or a caller's pipe.
  # The subshell execs java, so $! is the broker's own pid.
  (
    for f in "/proc/$BASHPID/fd"/*; do
      n="${f##*/}"
      [[ $n =~ ^[0-9]+$ ]] && ((n > 2)) && eval "exec $n>&-"
    done
    exec java "${opts[@]}" -cp "$libs/*" kafka.Kafka "$state/server.properties"
  ) >"$state/broker.log" 2>&1 </dev/null &
  echo $! >"$state/broker.pid"
  local deadline=$((SECONDS + 120))
  # Listening is not serving yet: wait for the broker's own "started" line too.
  until _kafka_port_open "$address" && grep -q 'Kafka Server started' "$state/server.log" 2>/dev/null; do
    _kafka_pid_alive || die "kafka: broker exited during start-up; see $state/broker.log and $state/server.log"
    ((SECONDS < deadline)) || die "kafka: broker did not listen on $address within 120 s; see $state/server.log"
    sleep 0.5
  done
  log "kafka: broker up on $address (pid $(cat "$state/broker.pid"))"
}

kafka_down() {
  if _kafka_external; then
    log "kafka: KAFKA_BROKERS is given; not stopping an external broker"
    return 0
  fi
  local state pid
  state="$(_kafka_state)"
  if ! _kafka_pid_alive; then
    rm -f "$state/broker.pid"
    log "kafka: not running"
    return 0
  fi
  pid="$(cat "$state/broker.pid")"
  log "kafka: stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      warn "kafka: broker did not stop within 60 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  rm -f "$state/broker.pid"
}

kafka_status() {
  local address state="down" version="$KAFKA_MODULE_VERSION" extra=""
  if _kafka_external; then
    address="$KAFKA_BROKERS"
    version="?"
    extra="  (external)"
  else
    address="$(_kafka_address)"
  fi
  _kafka_port_open "${address%%,*}" && state="up"
  printf '%-22s %-44s %-5s %s%s\n' kafka "$address" "$state" "$version" "$extra"
}

kafka_env() {
  if _kafka_external; then
    emit_export KAFKA_BROKERS "$KAFKA_BROKERS"
  else
    emit_export KAFKA_BROKERS "$(_kafka_address)"
    emit_export KAFKA_VERSION "$KAFKA_MODULE_VERSION"
  fi
  # The jars and java binary, for tests that spawn a throwaway broker (e.g. a broker-restart test).
  if [[ -f "$(_kafka_libs)/.complete" ]]; then
    emit_export KAFKA_LIBS "$(_kafka_libs)"
    emit_export KAFKA_JAVA "$(command -v java)"
  fi
}
