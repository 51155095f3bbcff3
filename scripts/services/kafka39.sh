# shellcheck shell=bash
# Kafka 3.9 module for scripts/services.sh: a second KRaft broker, on the 3.9 line, next to the 4.x one of `kafka`
# (same logic: scripts/lib/kafka.sh). The Python Skalds' client (kafka-python, forced to api_version 0.10.1) speaks
# protocol versions Kafka 4.0 removed, so a fleet that mixes Python and TypeScript Skalds runs on this broker
# (docs/python-interop.md); our Kafka bus's contract suite runs on both. Sourced, never executed.
#
#   kafka39_up / _down / _status   as the `kafka` module
#   kafka39_env   export KAFKA39_BROKERS (host:port), KAFKA39_VERSION (own broker only), KAFKA39_LIBS
#
# Settings (env): KAFKA39_BROKERS given by the caller => that server is used, nothing is built or started.
#   SKALDS_KAFKA39_VERSION (candidates, default "3.9.1 3.9.0"), SKALDS_KAFKA39_PORT (default 19094; controller on
#   port+1, 19095), SKALDS_KAFKA39_HEAP (default 512m).
# State: $SKALDS_SERVICES_DIR/kafka39/{data,server.properties,broker.pid,broker.log};
# jars:  $SKALDS_BUILD_CACHE/kafka-<version>/libs.

# shellcheck source=../lib/kafka.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/kafka.sh"

kafka_instance kafka39 "${SKALDS_KAFKA39_VERSION:-3.9.1 3.9.0}" "${SKALDS_KAFKA39_PORT:-19094}" \
  "${SKALDS_KAFKA39_HEAP:-512m}" KAFKA39_BROKERS

kafka39_up() { kafka_instance_up kafka39; }
kafka39_down() { kafka_instance_down kafka39; }
kafka39_status() { kafka_instance_status kafka39; }

kafka39_env() {
  if kafka_instance_external kafka39; then
    emit_export KAFKA39_BROKERS "$KAFKA39_BROKERS"
  else
    emit_export KAFKA39_BROKERS "$(kafka_instance_address kafka39)"
    emit_export KAFKA39_VERSION "$(kafka_instance_version kafka39)"
  fi
  if [[ -f "$(kafka_instance_libs kafka39)/.complete" ]]; then
    emit_export KAFKA39_LIBS "$(kafka_instance_libs kafka39)"
  fi
}
