# shellcheck shell=bash
# Kafka brokers for scripts/services.sh, shared by the modules `kafka` (4.x) and `kafka39` (3.9, for mixed fleets
# with the Python Skalds): one KRaft broker (combined broker + controller) on loopback per instance, built from Maven
# Central jars (scripts/kafka/pom.xml) and run with `java`. Sourced, never executed.
#
#   kafka_instance NAME VERSIONS PORT HEAP BROKERS_VAR   declare an instance (state dir $SKALDS_SERVICES_DIR/NAME,
#                                                         jars $SKALDS_BUILD_CACHE/kafka-<version>/libs)
#   kafka_instance_up|down|status NAME                   what a module's <name>_up/_down/_status do
#   kafka_instance_address|version|libs|external NAME    for a module's <name>_env
#   kafka_write_config DIR PORT                          a broker's server.properties and log4j2 config
#
# VERSIONS are candidates, most wanted first: one that Maven Central (or the mirror in front of it) stops serving is
# skipped, never waited on. The version in use is the first one already resolved into the build cache. A BROKERS_VAR
# given by the caller (another value than the instance's own address) means that server is used: nothing is built,
# started or stopped.
[[ -n "${_SKALDS_KAFKA_LIB_LOADED:-}" ]] && return 0
_SKALDS_KAFKA_LIB_LOADED=1
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

_KAFKA_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_LOG4J_VERSIONS="${SKALDS_KAFKA_LOG4J_VERSION:-2.24.3 2.25.3 2.26.1}"
declare -gA _KAFKA_VERSIONS=() _KAFKA_VERSION=() _KAFKA_PORT=() _KAFKA_HEAP=() _KAFKA_BROKERS_VAR=()

kafka_instance() {
  local name="$1" versions="$2" port="$3" heap="$4" var="$5" v
  _KAFKA_VERSIONS[$name]="$versions"
  _KAFKA_PORT[$name]="$port"
  _KAFKA_HEAP[$name]="$heap"
  _KAFKA_BROKERS_VAR[$name]="$var"
  _KAFKA_VERSION[$name]="${versions%% *}"
  for v in $versions; do
    if [[ -f "$SKALDS_BUILD_CACHE/kafka-$v/libs/.complete" ]]; then
      _KAFKA_VERSION[$name]="$v"
      break
    fi
  done
}

kafka_instance_version() { printf '%s' "${_KAFKA_VERSION[$1]}"; }
kafka_instance_address() { printf '127.0.0.1:%s' "${_KAFKA_PORT[$1]}"; }
kafka_instance_libs() { printf '%s/kafka-%s/libs' "$SKALDS_BUILD_CACHE" "${_KAFKA_VERSION[$1]}"; }
kafka_instance_external() { given_var "${_KAFKA_BROKERS_VAR[$1]}" "$(kafka_instance_address "$1")"; }
_kafka_state() { printf '%s/%s' "$SKALDS_SERVICES_DIR" "$1"; }

# True when something accepts TCP connections on host:port.
_kafka_port_open() {
  local host="${1%:*}" port="${1##*:}"
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
}

_kafka_pid_alive() {
  local pidfile
  pidfile="$(_kafka_state "$1")/broker.pid"
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Resolves the broker jars once into the build cache (a marker file records completion): the first candidate
# version (with the first log4j candidate) that resolves.
kafka_instance_build() {
  local name="$1" v l libs
  [[ -f "$(kafka_instance_libs "$name")/.complete" ]] && return 0
  command -v java >/dev/null || die "$name: java not found (Java 17+ is required for the Kafka ${_KAFKA_VERSION[$name]} broker)"
  command -v mvn >/dev/null || die "$name: mvn not found (needed once to fetch the broker jars from Maven Central)"
  for v in ${_KAFKA_VERSIONS[$name]}; do
    _KAFKA_VERSION[$name]="$v"
    libs="$(kafka_instance_libs "$name")"
    for l in $KAFKA_LOG4J_VERSIONS; do
      log "$name: resolving kafka_2.13:$v (log4j $l) and its runtime dependencies into $libs"
      rm -rf "$libs.tmp"
      if mvn -q -B -U -f "$_KAFKA_LIB_DIR/../kafka/pom.xml" dependency:copy-dependencies \
        -Dkafka.version="$v" -Dlog4j.version="$l" -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >&2; then
        rm -rf "$libs"
        mv "$libs.tmp" "$libs"
        touch "$libs/.complete"
        return 0
      fi
      warn "$name: kafka_2.13:$v with log4j $l did not resolve; trying the next candidate"
    done
  done
  die "$name: none of kafka_2.13 ${_KAFKA_VERSIONS[$name]} resolved from Maven Central (mvn output above)"
}

# Writes the log4j2 config and server.properties of a broker: kafka_write_config DIR PORT
# (controller listener on PORT+1). test/helpers/kafka-broker.ts writes the same for the throwaway brokers of tests.
# The share-coordinator settings are 4.x ones; a 3.9 broker logs them as unknown and goes on.
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
  local dir="$1" heap="$2"
  printf '%s\n' "-Xms128m" "-Xmx$heap" "-XX:+UseG1GC" "-XX:MaxGCPauseMillis=20" \
    "-Djava.awt.headless=true" "-Dkafka.logs.dir=$dir" "-Dlog4j2.configurationFile=$dir/log4j2.properties"
}

kafka_instance_up() {
  local name="$1" var="${_KAFKA_BROKERS_VAR[$1]}"
  if kafka_instance_external "$name"; then
    log "$name: using the given $var=${!var}"
    return 0
  fi
  local state address libs
  state="$(_kafka_state "$name")"
  address="$(kafka_instance_address "$name")"
  if _kafka_pid_alive "$name" && _kafka_port_open "$address"; then
    log "$name: already running on $address (pid $(cat "$state/broker.pid"))"
    return 0
  fi
  if _kafka_port_open "$address"; then
    die "$name: port ${_KAFKA_PORT[$name]} is taken by a process this module did not start; set its port variable or $var"
  fi
  kafka_instance_build "$name"
  libs="$(kafka_instance_libs "$name")"
  mkdir -p "$state"
  kafka_write_config "$state" "${_KAFKA_PORT[$name]}"
  local -a opts
  mapfile -t opts < <(_kafka_java_opts "$state" "${_KAFKA_HEAP[$name]}")
  if [[ ! -f "$state/data/meta.properties" ]]; then
    log "$name: formatting the KRaft log dir $state/data"
    java "${opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format \
      -t "$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null)" \
      -c "$state/server.properties" >"$state/format.log" 2>&1 ||
      die "$name: storage format failed: $(tail -5 "$state/format.log")"
  fi
  log "$name: starting broker ${_KAFKA_VERSION[$name]} on $address (heap ${_KAFKA_HEAP[$name]})"
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
    _kafka_pid_alive "$name" || die "$name: broker exited during start-up; see $state/broker.log and $state/server.log"
    ((SECONDS < deadline)) || die "$name: broker did not listen on $address within 120 s; see $state/server.log"
    sleep 0.5
  done
  log "$name: broker up on $address (pid $(cat "$state/broker.pid"))"
}

kafka_instance_down() {
  local name="$1" var="${_KAFKA_BROKERS_VAR[$1]}"
  if kafka_instance_external "$name"; then
    log "$name: $var is given; not stopping an external broker"
    return 0
  fi
  local state pid
  state="$(_kafka_state "$name")"
  if ! _kafka_pid_alive "$name"; then
    rm -f "$state/broker.pid"
    log "$name: not running"
    return 0
  fi
  pid="$(cat "$state/broker.pid")"
  log "$name: stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      warn "$name: broker did not stop within 60 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  rm -f "$state/broker.pid"
}

kafka_instance_status() {
  local name="$1" var="${_KAFKA_BROKERS_VAR[$1]}" address state="down" version extra=""
  version="$(kafka_instance_version "$name")"
  if kafka_instance_external "$name"; then
    address="${!var}"
    version="?"
    extra="  (external)"
  else
    address="$(kafka_instance_address "$name")"
  fi
  _kafka_port_open "${address%%,*}" && state="up"
  printf '%-22s %-44s %-5s %s%s\n' "$name" "$address" "$state" "$version" "$extra"
}
