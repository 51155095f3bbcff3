# shellcheck shell=bash
# Service module "mongo": a MongoDB wire-protocol server for the Disk Storage tests and benchmarks.
#
# No registry reachable here ships a real mongod (Debian bookworm has no mongodb package; the npm/PyPI
# wrappers download binaries from mongodb.org, which is unreachable), so this builds FerretDB 1.x from the
# Go module proxy and runs it on loopback without auth over its PostgreSQL backend (its main, fully supported
# one; the SQLite backend pushes down only `_id` equality, so every `{id: …}` lookup scanned: 42 reads/s against
# ~1,300/s here), on a private PostgreSQL cluster from Debian's `postgresql` package (lib/postgres.sh):
#
#   MONGO_URL=mongodb://127.0.0.1:27027/     (SKALDS_MONGO_PORT changes the port)
#
# If MONGO_URL is already set to anything else, that server is used instead: nothing is built or started.
# Sourced by scripts/services.sh; also works sourced alone:
#   bash -c 'set -euo pipefail; source scripts/services/mongo.sh; mongo_up; mongo_env'
# Knobs: SKALDS_MONGO_PORT (27027), SKALDS_PG_PORT (54327), SKALDS_FERRETDB_VERSION (default: the first of
# v1.24.2 v1.24.1 that the Go module proxy serves), SKALDS_FERRETDB_REBUILD (non-empty: discard the cached
# build), GO (path of the go command; default: go on PATH, else /usr/local/go/bin/go).

_mongo_module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -f $_mongo_module_dir/../lib/common.sh ]]; then
  # shellcheck source=../lib/common.sh
  source "$_mongo_module_dir/../lib/common.sh"
fi
# shellcheck source=../lib/postgres.sh
source "$_mongo_module_dir/../lib/postgres.sh"
# Fallbacks for the shared helpers, so the module also runs where lib/common.sh is absent.
if ! declare -F log >/dev/null; then
  SKALDS_SERVICES_DIR="${SKALDS_SERVICES_DIR:-${HOME:-/root}/.cache/skalds/services}"
  SKALDS_BUILD_CACHE="${SKALDS_BUILD_CACHE:-${HOME:-/root}/.cache/skalds/build}"
  log() { printf '[services] %s\n' "$*" >&2; }
  warn() { printf '[services] WARNING: %s\n' "$*" >&2; }
  die() {
    printf '[services] ERROR: %s\n' "$*" >&2
    exit 1
  }
  emit_export() { printf 'export %s=%q\n' "$1" "$2"; }
  given_var() { [[ -n "${!1:-}" && "${!1}" != "$2" ]]; }
fi

MONGO_HOST_ADDR=127.0.0.1
MONGO_PORT="${SKALDS_MONGO_PORT:-27027}"
MONGO_DEFAULT_URL="mongodb://$MONGO_HOST_ADDR:$MONGO_PORT/"
# Candidates, most wanted first: a version the proxy stops serving is skipped, never waited on.
FERRETDB_VERSIONS="${SKALDS_FERRETDB_VERSION:-v1.24.2 v1.24.1}"
FERRETDB_MODULE=github.com/FerretDB/FerretDB
MONGO_STATE_DIR="$SKALDS_SERVICES_DIR/mongo"
MONGO_PG_DB=ferretdb

_ferretdb_cache() { printf '%s/ferretdb-%s-pg' "$SKALDS_BUILD_CACHE" "$1"; }
# The version in use: the first candidate already built, else the first candidate (before a build).
_ferretdb_pick() {
  local v
  for v in $FERRETDB_VERSIONS; do
    _mongo_cache_ok "$v" && { printf '%s' "$v"; return 0; }
  done
  printf '%s' "${FERRETDB_VERSIONS%% *}"
}
_ferretdb_set() {
  FERRETDB_VERSION="$1"
  FERRETDB_CACHE="$(_ferretdb_cache "$1")"
  FERRETDB_BIN="$FERRETDB_CACHE/bin/ferretdb"
}

_mongo_external() { given_var MONGO_URL "$MONGO_DEFAULT_URL"; }

_mongo_go() {
  if [[ -n ${GO:-} ]]; then
    printf '%s' "$GO"
  elif command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '%s' /usr/local/go/bin/go
  else
    die "mongo: no Go toolchain (go on PATH or /usr/local/go/bin/go) to build FerretDB; or set MONGO_URL to a running server"
  fi
}

_mongo_bin_version() { "$1" --version 2>/dev/null | awk '$1 == "version:" { print $2; exit }'; }

_mongo_cache_ok() { # VERSION
  local bin
  bin="$(_ferretdb_cache "$1")/bin/ferretdb"
  [[ -x $bin && "$(_mongo_bin_version "$bin")" == "$1" ]]
}

# Builds FerretDB once into its cache: the first of $FERRETDB_VERSIONS that the Go module proxy serves.
# `go install …@version` cannot be used: it needs the module's version list (refused by the proxy here) and
# leaves build/version/version.txt empty, which makes FerretDB panic at start. So: download the module, copy
# it, write version.txt, go build (with the PostgreSQL backend: no build tag excludes it).
mongo_ensure_bin() {
  local v
  if [[ -n ${SKALDS_FERRETDB_REBUILD:-} ]]; then
    log "mongo: SKALDS_FERRETDB_REBUILD set, discarding the cached builds"
    for v in $FERRETDB_VERSIONS; do rm -rf "$(_ferretdb_cache "$v")"; done
  fi
  _ferretdb_set "$(_ferretdb_pick)"
  _mongo_cache_ok "$FERRETDB_VERSION" && return 0
  mkdir -p "$SKALDS_BUILD_CACHE"
  local lockfd
  exec {lockfd}>"$SKALDS_BUILD_CACHE/.ferretdb.lock"
  flock -w 1800 "$lockfd" || die "mongo: timed out waiting for a concurrent FerretDB build"
  _ferretdb_set "$(_ferretdb_pick)"
  if ! _mongo_cache_ok "$FERRETDB_VERSION"; then
    for v in $FERRETDB_VERSIONS; do
      _ferretdb_set "$v"
      _mongo_build "$v" && break
      warn "mongo: FerretDB $v could not be built; trying the next candidate"
    done
    _mongo_cache_ok "$FERRETDB_VERSION" || die "mongo: none of the FerretDB versions $FERRETDB_VERSIONS could be built (logs above)"
  fi
  exec {lockfd}>&-
}

# _mongo_build VERSION -> builds into its cache; returns non-zero (with the reason logged) on failure.
_mongo_build() {
  local version="$1" go t0=$SECONDS work dir commit cache
  go="$(_mongo_go)"
  cache="$(_ferretdb_cache "$version")"
  log "mongo: building FerretDB $version (PostgreSQL backend) with $("$go" version | awk '{print $3}') (once; ~1-2 min)"
  dir="$("$go" mod download -json "$FERRETDB_MODULE@$version" | awk -F'"' '$2 == "Dir" { print $4; exit }')" || {
    warn "mongo: go mod download $FERRETDB_MODULE@$version failed"
    return 1
  }
  [[ -n $dir && -d $dir/cmd/ferretdb ]] || { warn "mongo: module source of $FERRETDB_MODULE@$version not found"; return 1; }
  commit="$("$go" mod download -json "$FERRETDB_MODULE@$version" | awk -F'"' '$2 == "Hash" { print $4; exit }')"
  work="$(mktemp -d "$SKALDS_BUILD_CACHE/ferretdb-src.XXXXXX")"
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  printf '%s\n' "$version" >"$work/build/version/version.txt"
  printf '%s\n' "${commit:-unknown}" >"$work/build/version/commit.txt"
  local stage="$cache.tmp.$$"
  rm -rf "$stage"
  mkdir -p "$stage/bin"
  if ! (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod "$go" build -trimpath -o "$stage/bin/ferretdb" ./cmd/ferretdb) \
    >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    warn "mongo: FerretDB $version build failed (log: $work/build.log)"
    return 1
  fi
  {
    "$stage/bin/ferretdb" --version
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - t0))s"
  } >"$stage/VERSION"
  rm -rf "$cache"
  mv "$stage" "$cache"
  rm -rf "$work"
  _mongo_cache_ok "$version" || { warn "mongo: build finished but $cache/bin/ferretdb does not report $version"; return 1; }
  log "mongo: built FerretDB $version in $((SECONDS - t0))s -> $cache/bin/ferretdb"
}

_ferretdb_set "$(_ferretdb_pick)"

# True when something accepts TCP connections on host:port.
_mongo_port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Pid of the FerretDB this module runs on $MONGO_PORT: from the pidfile, else (state dir wiped while it ran)
# found by its command line: our cached binary with our listen address. Empty when none runs.
_mongo_pid() {
  local pid f
  if [[ -f $MONGO_STATE_DIR/ferretdb.pid ]]; then
    pid="$(<"$MONGO_STATE_DIR/ferretdb.pid")"
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && { printf '%s' "$pid"; return 0; }
  fi
  local cmd
  for f in /proc/[0-9]*/cmdline; do
    cmd="$(tr '\0' ' ' <"$f" 2>/dev/null)" || continue
    if [[ $cmd == "$SKALDS_BUILD_CACHE/ferretdb-"*"/bin/ferretdb --handler="* && $cmd == *" --listen-addr=$MONGO_HOST_ADDR:$MONGO_PORT "* ]]; then
      pid="${f#/proc/}"
      printf '%s' "${pid%/cmdline}"
      return 0
    fi
  done
  return 0
}

# Stops our FerretDB (TERM, then KILL after 10 s) and forgets its pidfile.
_mongo_stop() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "mongo: pid $pid still alive after 10s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$MONGO_STATE_DIR/ferretdb.pid"
}

mongo_up() {
  if _mongo_external; then
    log "mongo: using the given MONGO_URL (not starting a server)"
    return 0
  fi
  mongo_ensure_bin
  local pid
  pid="$(_mongo_pid)"
  if [[ -n $pid ]] && ! pg_running "$MONGO_STATE_DIR/pg"; then
    # Its PostgreSQL is gone (stopped, or its state dir wiped; or a FerretDB of the SQLite days): start afresh.
    warn "mongo: FerretDB (pid $pid) runs without its PostgreSQL backend; restarting it"
    _mongo_stop "$pid"
    pid=""
  fi
  if [[ -n $pid ]] && _mongo_port_open "$MONGO_HOST_ADDR" "$MONGO_PORT"; then
    [[ -f $MONGO_STATE_DIR/ferretdb.pid ]] || echo "$pid" >"$MONGO_STATE_DIR/ferretdb.pid"
    log "mongo: FerretDB already running on $MONGO_HOST_ADDR:$MONGO_PORT (pid $pid)"
    return 0
  fi
  if [[ -z $pid ]] && _mongo_port_open "$MONGO_HOST_ADDR" "$MONGO_PORT"; then
    warn "mongo: $MONGO_HOST_ADDR:$MONGO_PORT is served by a process this script did not start; using it as it is"
    return 0
  fi
  mkdir -p "$MONGO_STATE_DIR"
  pg_start "$MONGO_STATE_DIR/pg"
  pg_ensure_db "$MONGO_STATE_DIR/pg" "$MONGO_PG_DB"
  log "mongo: starting FerretDB $FERRETDB_VERSION (postgresql backend, $(pg_url "$MONGO_PG_DB")) on $MONGO_HOST_ADDR:$MONGO_PORT"
  # FerretDB must not inherit services.sh's flock or a caller's pipe: the subshell closes every fd above 2 and
  # execs, so $! is FerretDB's own pid (a function run in the background would leave $! on a wrapper shell, and
  # `down` would kill the wrapper and orphan FerretDB).
  (
    for f in "/proc/$BASHPID/fd"/*; do
      n="${f##*/}"
      [[ $n =~ ^[0-9]+$ ]] && ((n > 2)) && eval "exec $n>&-"
    done
    exec setsid "$FERRETDB_BIN" --handler=postgresql --postgresql-url="$(pg_url "$MONGO_PG_DB")" \
    --listen-addr="$MONGO_HOST_ADDR:$MONGO_PORT" --debug-addr=- --telemetry=disable \
    --state-dir="$MONGO_STATE_DIR" --log-level=WARN
  ) </dev/null >>"$MONGO_STATE_DIR/ferretdb.log" 2>&1 &
  echo $! >"$MONGO_STATE_DIR/ferretdb.pid"
  local i
  for ((i = 0; i < 200; i++)); do
    if _mongo_port_open "$MONGO_HOST_ADDR" "$MONGO_PORT"; then
      log "mongo: up ($(cat "$MONGO_STATE_DIR/ferretdb.pid"))"
      return 0
    fi
    [[ -n "$(_mongo_pid)" ]] || break
    sleep 0.1
  done
  tail -n 20 "$MONGO_STATE_DIR/ferretdb.log" >&2 || true
  die "mongo: FerretDB did not listen on $MONGO_HOST_ADDR:$MONGO_PORT within 20s (log: $MONGO_STATE_DIR/ferretdb.log)"
}

mongo_down() {
  if _mongo_external; then
    log "mongo: external MONGO_URL, nothing to stop"
    return 0
  fi
  local pid
  pid="$(_mongo_pid)"
  if [[ -n $pid ]]; then
    log "mongo: stopping FerretDB (pid $pid)"
    _mongo_stop "$pid"
  else
    log "mongo: already down"
  fi
  pg_stop "$MONGO_STATE_DIR/pg"
  # The data is test data only: down leaves nothing behind but the logs.
  rm -rf "$MONGO_STATE_DIR/data" "$MONGO_STATE_DIR/pg" "$MONGO_STATE_DIR/ferretdb.pid"
}

mongo_status() {
  local url state=down version=- extra=""
  if _mongo_external; then
    url="$MONGO_URL"
    extra="  (external)"
    local hp="${url#*://}"
    hp="${hp#*@}"
    hp="${hp%%/*}"
    hp="${hp%%,*}"
    [[ $hp == *:* ]] || hp="$hp:27017"
    _mongo_port_open "${hp%:*}" "${hp##*:}" && state=up
  else
    url="$MONGO_DEFAULT_URL"
    _mongo_port_open "$MONGO_HOST_ADDR" "$MONGO_PORT" && state=up
    [[ -x $FERRETDB_BIN ]] && version="FerretDB-$(_mongo_bin_version "$FERRETDB_BIN")(postgresql)"
    [[ $state == up && -z "$(_mongo_pid)" ]] && extra="  (not started by this script)"
  fi
  printf '%-22s %-44s %-5s %s%s\n' mongo "$url" "$state" "$version" "$extra"
}

mongo_env() {
  if _mongo_external; then
    emit_export MONGO_URL "$MONGO_URL"
  else
    emit_export MONGO_URL "$MONGO_DEFAULT_URL"
  fi
}
