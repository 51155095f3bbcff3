# shellcheck shell=bash
# A private PostgreSQL cluster on loopback: the storage FerretDB's PostgreSQL backend runs on (services/mongo.sh).
# Debian's `postgresql` package (whatever major the machine's release ships; bookworm: 15) provides the
# binaries; the cluster is our own (initdb into the state dir, trust auth on a Unix socket and 127.0.0.1 only,
# no fsync: test data), started with pg_ctl as the `postgres` user when run as root. Sourced; needs lib/common.sh.
#   SKALDS_PG_PORT (54327)   the port it listens on
[[ -n "${_SKALDS_POSTGRES_LOADED:-}" ]] && return 0
_SKALDS_POSTGRES_LOADED=1

PG_PORT="${SKALDS_PG_PORT:-54327}"
PG_HOST=127.0.0.1

# Directory of the newest installed PostgreSQL major's binaries (empty when none is installed).
_pg_bindir() {
  local d
  d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [[ -n $d && -x $d/pg_ctl && -x $d/initdb ]] && printf '%s' "$d"
  return 0
}

pg_ensure_bin() {
  [[ -n "$(_pg_bindir)" ]] && return 0
  # The package's own cluster service must not start; we run our own cluster.
  with_no_service_autostart apt_install_missing postgresql
  [[ -n "$(_pg_bindir)" ]] || die "postgres: no pg_ctl/initdb under /usr/lib/postgresql/*/bin after installing postgresql"
}

# Runs a PostgreSQL binary as the cluster's owner: `postgres` when we are root (the server refuses root).
_pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_pg_owner_ready() { # DIR -> creates DIR owned by the cluster's owner
  mkdir -p "$1"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "postgres: no 'postgres' system user (the postgresql package creates it)"
    chown postgres: "$1"
    # The owner must be able to reach DIR through its parents (the state dir lives under root's HOME).
    local p="$1"
    while [[ $p != / && $p != . ]]; do
      p="$(dirname "$p")"
      chmod o+x "$p" 2>/dev/null || true
    done
  fi
}

pg_running() { # DIR -> true when a server runs on this cluster's data directory
  local bindir
  bindir="$(_pg_bindir)"
  [[ -n $bindir && -f $1/data/PG_VERSION ]] || return 1
  _pg_as_owner "$bindir/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

# pg_start DIR -> initialises (once) and starts the cluster in DIR; idempotent.
pg_start() {
  local dir="$1" bindir
  pg_ensure_bin
  bindir="$(_pg_bindir)"
  if pg_running "$dir"; then
    return 0
  fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    rm -rf "$dir/data"
    _pg_owner_ready "$dir"
    _pg_owner_ready "$dir/data"
    log "postgres: initdb $dir/data ($("$bindir/postgres" --version))"
    _pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || die "postgres: initdb failed: $(tail -5 "$dir/initdb.log")"
  fi
  _pg_owner_ready "$dir/run"
  log "postgres: starting on $PG_HOST:$PG_PORT (data: $dir/data)"
  # fsync off and a small shared_buffers: test data on a 2-core machine, durability is not wanted.
  local owner=()
  [[ $(id -u) -eq 0 ]] && owner=(runuser -u postgres --)
  run_closing_fds "${owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/run/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=$PG_HOST -k $dir/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null 2>&1 || die "postgres: pg_ctl start failed: $(tail -10 "$dir/run/postgres.log" 2>/dev/null)"
}

pg_stop() {
  local dir="$1" bindir
  bindir="$(_pg_bindir)"
  pg_running "$dir" || return 0
  log "postgres: stopping ($dir/data)"
  _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    warn "postgres: pg_ctl stop failed"
}

# pg_ensure_db DIR NAME -> creates database NAME when it does not exist.
pg_ensure_db() {
  local dir="$1" name="$2" bindir
  bindir="$(_pg_bindir)"
  if ! _pg_as_owner "$bindir/psql" -h "$dir/run" -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$name'" 2>/dev/null | grep -q 1; then
    _pg_as_owner "$bindir/createdb" -h "$dir/run" -p "$PG_PORT" -U postgres "$name" ||
      die "postgres: createdb $name failed"
  fi
}

pg_url() { printf 'postgres://postgres@%s:%s/%s' "$PG_HOST" "$PG_PORT" "$1"; }
