# shellcheck shell=bash
# Helpers shared by scripts/services.sh and every module. Sourced, never executed.
# Modules may use: log, warn, die, emit_export, given_var, as_root, apt_get,
# deb_installed, apt_update_once, apt_install_missing, with_no_service_autostart,
# run_closing_fds.
[[ -n "${_SKALDS_COMMON_LOADED:-}" ]] && return 0
_SKALDS_COMMON_LOADED=1

_skalds_abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
SKALDS_SERVICES_DIR="$(_skalds_abs "${SKALDS_SERVICES_DIR:-${HOME:-/root}/.cache/skalds/services}")"
SKALDS_BUILD_CACHE="$(_skalds_abs "${SKALDS_BUILD_CACHE:-${HOME:-/root}/.cache/skalds/build}")"
export SKALDS_SERVICES_DIR SKALDS_BUILD_CACHE

# All progress/diagnostics go to stderr: stdout is reserved for `env`.
log() { printf '[services] %s\n' "$*" >&2; }
warn() { printf '[services] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

# emit_export NAME VALUE -> an eval-able `export NAME=VALUE` line on stdout.
emit_export() {
  local name="$1" value="$2"
  if [[ $value =~ ^[A-Za-z0-9_./:@,+=%-]*$ ]]; then
    printf 'export %s=%s\n' "$name" "$value"
  else
    printf 'export %s=%q\n' "$name" "$value"
  fi
}

# given_var NAME DEFAULT -> true when the caller's environment supplies NAME with a value
# other than the one this script would produce itself. Such a service is "external": it
# is neither built nor started nor stopped, and `env` echoes the given value. (A value
# equal to our own default, e.g. left over from a previous `eval "$(... env)"`, is ours.)
given_var() {
  local name="$1" default="$2"
  [[ -n "${!name:-}" && "${!name}" != "$default" ]]
}

# Run a command as root (directly, or through passwordless sudo).
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root (or passwordless sudo) to run: $*"
  fi
}

# run_closing_fds CMD... -> runs CMD with every file descriptor above 2 closed, so that a
# daemon it starts can't inherit and hold open our locks or the caller's pipes (a CI
# step piping `up` through tee would otherwise never see EOF).
run_closing_fds() {
  (
    local f n
    for f in "/proc/$BASHPID/fd"/*; do
      n="${f##*/}"
      [[ $n =~ ^[0-9]+$ ]] && ((n > 2)) && eval "exec $n>&-"
    done
    exec "$@"
  )
}

apt_get() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 "$@" >&2
}

deb_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

_SKALDS_APT_UPDATED=""
apt_update_once() {
  [[ -n $_SKALDS_APT_UPDATED ]] && return 0
  log "apt-get update"
  apt_get update || warn "apt-get update reported errors (continuing)"
  _SKALDS_APT_UPDATED=1
}

# apt_install_missing PKG... -> installs the packages not yet installed; runs
# `apt-get update` only if the install fails without it (no lists / stale lists).
apt_install_missing() {
  local p missing=()
  for p in "$@"; do deb_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  log "apt-get install ${missing[*]}"
  if [[ -z $_SKALDS_APT_UPDATED ]] && apt_get install --no-install-recommends "${missing[@]}"; then
    return 0
  fi
  apt_update_once
  apt_get install --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
}

# with_no_service_autostart CMD... -> runs CMD with a temporary /usr/sbin/policy-rc.d that
# stops Debian maintainer scripts from starting daemons (e.g. redis-server on :6379).
# An existing policy-rc.d is left as it is. CMD runs under `set -e` as usual; the
# temporary file is removed by an EXIT trap if CMD makes the script exit.
with_no_service_autostart() {
  local policy=/usr/sbin/policy-rc.d
  if [[ -e $policy ]]; then
    "$@"
    return
  fi
  as_root sh -c "printf '#!/bin/sh\\nexit 101\\n' > $policy && chmod 755 $policy"
  # shellcheck disable=SC2064 # expand now
  trap "as_root rm -f $policy" EXIT
  "$@"
  as_root rm -f "$policy"
  trap - EXIT
}
