# shellcheck shell=bash source-path=SCRIPTDIR
# Module "redis7": Redis 7.0 single node (the legacy / emulation path), Debian bookworm's
# redis-server package run with our own config (the package's :6379 service is not used).
#   REDIS_LEGACY_URL         redis://127.0.0.1:6391  (SKALDS_REDIS7_PORT)
#   REDIS_LEGACY_SERVER_BIN  /usr/bin/redis-server (7.0.x)
# Given REDIS_LEGACY_URL -> that server is used (not started/stopped here).
# Given REDIS_LEGACY_SERVER_BIN -> that binary is used instead of installing the package.
# shellcheck source=../lib/redis.sh
source "$SKALDS_SCRIPTS_DIR/lib/redis.sh"

_redis7_dir() { printf '%s/redis7' "$SKALDS_SERVICES_DIR"; }
_redis7_default_url() { printf 'redis://%s:%s' "$REDIS_HOST" "$REDIS7_PORT"; }

redis7_up() {
  redis7_ensure_bin
  if given_var REDIS_LEGACY_URL "$(_redis7_default_url)"; then
    log "redis7: using the given REDIS_LEGACY_URL=$REDIS_LEGACY_URL (not starting a server)"
    return 0
  fi
  redis_start redis7 "$(redis7_server_bin)" "$REDIS7_PORT" "$(_redis7_dir)"
  redis_check_major redis7 "$REDIS7_PORT" 7
}

redis7_down() {
  if given_var REDIS_LEGACY_URL "$(_redis7_default_url)"; then
    log "redis7: REDIS_LEGACY_URL is given ($REDIS_LEGACY_URL): not ours to stop"
    return 0
  fi
  redis_stop redis7 "$REDIS7_PORT" "$(_redis7_dir)"
}

redis7_status() {
  if given_var REDIS_LEGACY_URL "$(_redis7_default_url)"; then
    redis_status_line_url redis7 "$REDIS_LEGACY_URL"
  else
    redis_status_line redis7 "$(_redis7_default_url)" "$REDIS_HOST" "$REDIS7_PORT"
  fi
}

redis7_env() {
  if given_var REDIS_LEGACY_URL "$(_redis7_default_url)"; then
    emit_export REDIS_LEGACY_URL "$REDIS_LEGACY_URL"
  else
    emit_export REDIS_LEGACY_URL "$(_redis7_default_url)"
  fi
  emit_export REDIS_LEGACY_SERVER_BIN "$(redis7_server_bin)"
}
