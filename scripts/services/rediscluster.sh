# shellcheck shell=bash source-path=SCRIPTDIR
# Module "rediscluster": Redis 8 cluster of 3 masters, no replicas, on 127.0.0.1:7101-7103
# (SKALDS_REDIS_CLUSTER_PORTS="7101 7102 7103"; bus ports +10000), Redis 8 binary of redis8.sh.
#   REDIS_CLUSTER_NODES  127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
# Given REDIS_CLUSTER_NODES -> that cluster is used (not started/stopped here).
# A cluster whose nodes.conf survives a restart is reused, not re-created; one that does
# not reach cluster_state:ok is reset (FLUSHALL + CLUSTER RESET HARD, or wiped) and re-created.
# shellcheck source=../lib/redis.sh
source "$SKALDS_SCRIPTS_DIR/lib/redis.sh"

_rediscluster_dir() { printf '%s/rediscluster/%s' "$SKALDS_SERVICES_DIR" "$1"; }
_rediscluster_default_nodes() {
  local p out=()
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do out+=("$REDIS_HOST:$p"); done
  (IFS=,; printf '%s' "${out[*]}")
}
_rediscluster_external() { given_var REDIS_CLUSTER_NODES "$(_rediscluster_default_nodes)"; }

_rediscluster_start_nodes() {
  local p
  redisbloom_ensure
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do
    redis_start "rediscluster:$p" "$(redis8_server_bin)" "$p" "$(_rediscluster_dir "$p")" \
      "cluster-enabled yes" \
      "cluster-config-file nodes.conf" \
      "cluster-node-timeout 5000" \
      "$(redisbloom_conf_line)"
    redisbloom_check_loaded "rediscluster:$p" "$p"
    [[ "$(redis_info_field "$REDIS_HOST" "$p" cluster cluster_enabled)" == 1 ]] ||
      die "rediscluster: the server on $REDIS_HOST:$p is not cluster-enabled (some other server holds this port?)"
  done
}

# _rediscluster_info PORT FIELD
_rediscluster_info() {
  local out
  out="$(redis_cmd "$REDIS_HOST" "$1" CLUSTER INFO 2>/dev/null)" || return 0
  printf '%s\n' "$out" | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2; exit }'
}

# True when every node says: state ok, all 16384 slots ok, knows exactly the N masters.
_rediscluster_all_ok() {
  local p n="${#REDIS_CLUSTER_PORTS[@]}" info
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do
    info="$(redis_cmd "$REDIS_HOST" "$p" CLUSTER INFO 2>/dev/null | tr -d '\r')" || return 1
    grep -qx 'cluster_state:ok' <<<"$info" || return 1
    grep -qx 'cluster_slots_ok:16384' <<<"$info" || return 1
    grep -qx "cluster_known_nodes:$n" <<<"$info" || return 1
    grep -qx "cluster_size:$n" <<<"$info" || return 1
  done
}

# Prints how many nodes already belong to a cluster (know other nodes or own slots).
_rediscluster_configured_count() {
  local p known slots n=0
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do
    known="$(_rediscluster_info "$p" cluster_known_nodes)"
    slots="$(_rediscluster_info "$p" cluster_slots_assigned)"
    if [[ ${known:-1} -gt 1 || ${slots:-0} -gt 0 ]]; then n=$((n + 1)); fi
  done
  printf '%s' "$n"
}

_rediscluster_wait_ok() { # SECONDS
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    _rediscluster_all_ok && return 0
    sleep 0.1
  done
  return 1
}

# Bring every node back to an empty, unclustered state.
_rediscluster_reset() {
  local p ok=1
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do
    redis_cmd "$REDIS_HOST" "$p" FLUSHALL >/dev/null 2>&1 &&
      [[ "$(redis_cmd "$REDIS_HOST" "$p" CLUSTER RESET HARD 2>/dev/null)" == OK ]] || ok=""
  done
  [[ -n $ok ]] && return 0
  warn "rediscluster: CLUSTER RESET failed; wiping the node directories"
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do
    redis_stop "rediscluster:$p" "$p" "$(_rediscluster_dir "$p")"
    rm -rf "$(_rediscluster_dir "$p")"
  done
  _rediscluster_start_nodes
}

rediscluster_up() {
  if _rediscluster_external; then
    log "rediscluster: using the given REDIS_CLUSTER_NODES=$REDIS_CLUSTER_NODES (not starting a cluster)"
    return 0
  fi
  redis8_ensure_bin
  _rediscluster_start_nodes

  if _rediscluster_all_ok; then
    log "rediscluster: cluster_state:ok on all ${#REDIS_CLUSTER_PORTS[@]} nodes"
    return 0
  fi
  local configured
  configured="$(_rediscluster_configured_count)"
  if ((configured == ${#REDIS_CLUSTER_PORTS[@]})); then
    # Typically a restart from nodes.conf: the nodes need a moment to find each other.
    log "rediscluster: existing cluster configuration found, waiting for cluster_state:ok"
    if _rediscluster_wait_ok 20; then
      log "rediscluster: cluster_state:ok on all ${#REDIS_CLUSTER_PORTS[@]} nodes (reused nodes.conf)"
      return 0
    fi
    warn "rediscluster: cluster did not become healthy; resetting and re-creating it"
  elif ((configured > 0)); then
    warn "rediscluster: only $configured of ${#REDIS_CLUSTER_PORTS[@]} nodes have a cluster configuration; resetting and re-creating it"
  fi
  _rediscluster_reset

  local p hosts=()
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do hosts+=("$REDIS_HOST:$p"); done
  log "rediscluster: redis-cli --cluster create ${hosts[*]} --cluster-replicas 0"
  local cli
  cli="$(redis_cli_bin)"
  [[ -n $cli ]] || die "rediscluster: no redis-cli available"
  "$cli" --cluster create "${hosts[@]}" --cluster-replicas 0 --cluster-yes >&2 ||
    die "rediscluster: redis-cli --cluster create failed"
  _rediscluster_wait_ok 30 || {
    for p in "${REDIS_CLUSTER_PORTS[@]}"; do redis_cmd "$REDIS_HOST" "$p" CLUSTER INFO >&2 || true; done
    die "rediscluster: cluster_state did not become ok on all nodes within 30s"
  }
  log "rediscluster: created; cluster_state:ok on all ${#REDIS_CLUSTER_PORTS[@]} nodes"
}

rediscluster_down() {
  if _rediscluster_external; then
    log "rediscluster: REDIS_CLUSTER_NODES is given ($REDIS_CLUSTER_NODES): not ours to stop"
    return 0
  fi
  local p
  for p in "${REDIS_CLUSTER_PORTS[@]}"; do
    redis_stop "rediscluster:$p" "$p" "$(_rediscluster_dir "$p")"
  done
}

rediscluster_status() {
  local node host port state suffix=""
  if _rediscluster_external; then
    suffix="  (external)"
    local nodes
    IFS=, read -r -a nodes <<<"$REDIS_CLUSTER_NODES"
    for node in "${nodes[@]}"; do
      host="${node%:*}"
      port="${node##*:}"
      state="$(redis_cmd "$host" "$port" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep '^cluster_state:' || true)"
      redis_status_line rediscluster "$node" "$host" "$port" "${state}${suffix}"
    done
    return 0
  fi
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do
    state="$(_rediscluster_info "$port" cluster_state)"
    redis_status_line rediscluster "$REDIS_HOST:$port" "$REDIS_HOST" "$port" "${state:+cluster_state:$state}"
  done
}

rediscluster_env() {
  if _rediscluster_external; then
    emit_export REDIS_CLUSTER_NODES "$REDIS_CLUSTER_NODES"
  else
    emit_export REDIS_CLUSTER_NODES "$(_rediscluster_default_nodes)"
  fi
}
