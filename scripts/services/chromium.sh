# shellcheck shell=bash
# Service module "chromium": the browser the dashboard's end-to-end tests drive (through playwright-core), from
# Debian's `chromium` package: a test tool's own browser download reaches a host this machine cannot reach.
# Not a server: `up` installs it when missing, `down` leaves it installed, `env` names it.
#
#   CHROMIUM_PATH=/usr/bin/chromium
#
# If CHROMIUM_PATH is already set to another executable, that browser is used instead: nothing is installed.
# Any revision Debian serves will do: the package is never pinned to one.

CHROMIUM_DEFAULT_PATH=/usr/bin/chromium

chromium_up() {
  if given_var CHROMIUM_PATH "$CHROMIUM_DEFAULT_PATH"; then
    [[ -x $CHROMIUM_PATH ]] || die "chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"
    log "chromium: using the given CHROMIUM_PATH=$CHROMIUM_PATH"
    return 0
  fi
  if [[ -x $CHROMIUM_DEFAULT_PATH ]]; then
    log "chromium: $("$CHROMIUM_DEFAULT_PATH" --version 2>/dev/null || echo "$CHROMIUM_DEFAULT_PATH") (installed)"
    return 0
  fi
  apt_install_missing chromium
  [[ -x $CHROMIUM_DEFAULT_PATH ]] || die "chromium: installed, but $CHROMIUM_DEFAULT_PATH is missing"
  log "chromium: $("$CHROMIUM_DEFAULT_PATH" --version 2>/dev/null) installed"
}

chromium_down() {
  log "chromium: a browser, not a server: nothing to stop"
}

chromium_status() {
  local path="${CHROMIUM_PATH:-$CHROMIUM_DEFAULT_PATH}"
  if [[ -x $path ]]; then
    printf 'chromium  %s  installed  %s\n' "$path" "$("$path" --version 2>/dev/null | head -1)"
  else
    printf 'chromium  %s  missing\n' "$path"
  fi
}

chromium_env() {
  if given_var CHROMIUM_PATH "$CHROMIUM_DEFAULT_PATH"; then
    emit_export CHROMIUM_PATH "$CHROMIUM_PATH"
  else
    emit_export CHROMIUM_PATH "$CHROMIUM_DEFAULT_PATH"
  fi
}
