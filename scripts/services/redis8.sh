# shellcheck shell=bash source-path=SCRIPTDIR
# Module "redis8": Redis 8 single node, built from the upstream tarball Debian trixie's source index
# names, with the RedisBloom module loaded (lib/redisbloom.sh).
#   REDIS_URL         redis://127.0.0.1:6390  (SKALDS_REDIS8_PORT)
#   REDIS_SERVER_BIN  the Redis 8 redis-server binary (tests spawn throwaway servers with it)
# Given REDIS_URL -> that server is used (not started/stopped here).
# Given REDIS_SERVER_BIN -> that binary is used instead of building one.
# shellcheck source=../lib/redis.sh
source "$SKALDS_SCRIPTS_DIR/lib/redis.sh"

_redis8_dir() { printf '%s/redis8' "$SKALDS_SERVICES_DIR"; }
_redis8_default_url() { printf 'redis://%s:%s' "$REDIS_HOST" "$REDIS8_PORT"; }

redis8_up() {
  redis8_ensure_bin
  if given_var REDIS_URL "$(_redis8_default_url)"; then
    log "redis8: using the given REDIS_URL=$REDIS_URL (not starting a server)"
    return 0
  fi
  redisbloom_ensure
  redis_start redis8 "$(redis8_server_bin)" "$REDIS8_PORT" "$(_redis8_dir)" "$(redisbloom_conf_line)"
  redis_check_major redis8 "$REDIS8_PORT" 8
  redisbloom_check_loaded redis8 "$REDIS8_PORT"
}

redis8_down() {
  if given_var REDIS_URL "$(_redis8_default_url)"; then
    log "redis8: REDIS_URL is given ($REDIS_URL): not ours to stop"
    return 0
  fi
  redis_stop redis8 "$REDIS8_PORT" "$(_redis8_dir)"
}

redis8_status() {
  if given_var REDIS_URL "$(_redis8_default_url)"; then
    redis_status_line_url redis8 "$REDIS_URL"
  else
    redis_status_line redis8 "$(_redis8_default_url)" "$REDIS_HOST" "$REDIS8_PORT"
  fi
}

redis8_env() {
  if given_var REDIS_URL "$(_redis8_default_url)"; then
    emit_export REDIS_URL "$REDIS_URL"
  else
    emit_export REDIS_URL "$(_redis8_default_url)"
  fi
  emit_export REDIS_SERVER_BIN "$(redis8_server_bin)"
}
