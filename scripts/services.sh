#!/usr/bin/env bash
# Provision the local backing services used by the Skalds test suites.
#
#   bash scripts/services.sh up|down|status|env [service...]
#
# Every scripts/services/<name>.sh is a module defining <name>_up, <name>_down,
# <name>_status and <name>_env. With no service names, the action applies to
# all modules (sorted by file name; `down` goes in reverse order).
# Progress goes to stderr; only `env` writes to stdout (eval-able export lines):
#
#   eval "$(bash scripts/services.sh env)"
#
# See scripts/README.md.
set -euo pipefail

SKALDS_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export SKALDS_SCRIPTS_DIR
# shellcheck source=lib/common.sh
source "$SKALDS_SCRIPTS_DIR/lib/common.sh"

usage() {
  cat <<USAGE
usage: bash scripts/services.sh up|down|status|env [service...]

  up      build/install/start the services (idempotent; reuses running servers and cached builds)
  down    stop the services started by this script (idempotent)
  status  one line per server: name, address, up/down, version
  env     print 'export NAME=value' lines for the tests: eval "\$(bash scripts/services.sh env)"

services: ${SKALDS_MODULES[*]:-(none)}
state dir:   \${SKALDS_SERVICES_DIR:-\$HOME/.cache/skalds/services}  (now: $SKALDS_SERVICES_DIR)
build cache: \${SKALDS_BUILD_CACHE:-\$HOME/.cache/skalds/build}     (now: $SKALDS_BUILD_CACHE)
USAGE
}

# Load the modules at top level (not inside a function) so that their globals stay global.
SKALDS_MODULES=()
shopt -s nullglob
_skalds_module_files=("$SKALDS_SCRIPTS_DIR"/services/*.sh)
shopt -u nullglob
if ((${#_skalds_module_files[@]})); then
  mapfile -t _skalds_module_files < <(printf '%s\n' "${_skalds_module_files[@]}" | LC_ALL=C sort)
fi
for _skalds_f in "${_skalds_module_files[@]}"; do
  _skalds_name="$(basename "$_skalds_f" .sh)"
  [[ $_skalds_name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
    die "module file name '$_skalds_name.sh' is not a valid bash identifier"
  # shellcheck source=/dev/null
  source "$_skalds_f"
  SKALDS_MODULES+=("$_skalds_name")
done
unset _skalds_f _skalds_name _skalds_module_files

main() {
  local action="${1:-}"
  (($#)) && shift
  case "$action" in
    up | down | status | env) ;;
    -h | --help | help) usage; return 0 ;;
    *) usage >&2; return 2 ;;
  esac

  local services=("$@") s
  ((${#services[@]})) || services=("${SKALDS_MODULES[@]}")
  for s in "${services[@]}"; do
    declare -F "${s}_${action}" >/dev/null ||
      die "unknown service '$s' (known: ${SKALDS_MODULES[*]:-none}); expected function ${s}_${action}"
  done

  if [[ ($action == up || $action == down) && -z ${_SKALDS_SERVICES_LOCKED:-} ]]; then
    # Serialise concurrent up/down runs on the same state dir: re-run this script under
    # flock(1). `-o` keeps the lock fd out of the script, so daemons it starts can't
    # inherit (and hold) the lock.
    mkdir -p "$SKALDS_SERVICES_DIR"
    exec env _SKALDS_SERVICES_LOCKED=1 flock -o -w 1200 -E 75 "$SKALDS_SERVICES_DIR/.lock" \
      bash "$SKALDS_SCRIPTS_DIR/services.sh" "$action" "$@"
  fi
  if [[ $action == down ]]; then
    local i reversed=()
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do reversed+=("${services[i]}"); done
    services=("${reversed[@]}")
  fi

  local t0=$SECONDS
  for s in "${services[@]}"; do
    "${s}_${action}"
  done
  case "$action" in
    up) log "up: done in $((SECONDS - t0))s. Next: eval \"\$(bash scripts/services.sh env)\"" ;;
    down) log "down: done in $((SECONDS - t0))s" ;;
  esac
}

main "$@"
