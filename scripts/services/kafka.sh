# shellcheck shell=bash
# Kafka module for scripts/services.sh: one Kafka 4.x KRaft broker (combined broker + controller) on loopback, built
# from Maven Central jars (scripts/kafka/pom.xml) and run with `java` (scripts/lib/kafka.sh, shared with `kafka39`).
# Sourced, never executed.
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

# shellcheck source=../lib/kafka.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/kafka.sh"

kafka_instance kafka "${SKALDS_KAFKA_VERSION:-4.1.0 4.1.2 4.1.1 4.0.2}" "${SKALDS_KAFKA_PORT:-19092}" \
  "${SKALDS_KAFKA_HEAP:-512m}" KAFKA_BROKERS

kafka_up() { kafka_instance_up kafka; }
kafka_down() { kafka_instance_down kafka; }
kafka_status() { kafka_instance_status kafka; }

kafka_env() {
  if kafka_instance_external kafka; then
    emit_export KAFKA_BROKERS "$KAFKA_BROKERS"
  else
    emit_export KAFKA_BROKERS "$(kafka_instance_address kafka)"
    emit_export KAFKA_VERSION "$(kafka_instance_version kafka)"
  fi
  # The jars and java binary, for tests that spawn a throwaway broker (e.g. a broker-restart test).
  if [[ -f "$(kafka_instance_libs kafka)/.complete" ]]; then
    emit_export KAFKA_LIBS "$(kafka_instance_libs kafka)"
    emit_export KAFKA_JAVA "$(command -v java)"
  fi
}
