# shellcheck shell=bash
# Service module "pyskalds": the Python Skalds, the system this project re-implements, as the peer of the interop
# tests (test/interop/). Not a server: `up` installs `skalds[backend]==<version>` from PyPI into a virtual environment
# in the build cache (python3 -m venv; pip install), and unpacks the examples of the same release's sdist beside it
# (the interop tests run its example scripts unchanged but for their connection settings). `down` leaves it installed.
#
#   SKALDS_PYTHON            <build cache>/pyskalds-<version>/venv/bin/python   (the venv's interpreter)
#   SKALDS_PYSKALDS_EXAMPLES <build cache>/pyskalds-<version>/examples          (the sdist's examples/ folder)
#
# Settings (env): a given SKALDS_PYTHON (any interpreter that imports skalds) is used instead: nothing is installed for
# it, but the examples are still unpacked. SKALDS_PYSKALDS_VERSION (default 0.3.8, the release the issue targets; the
# dependencies are whatever pip resolves for it, nothing else is pinned), SKALDS_PYSKALDS_REINSTALL=1 rebuilds the venv.
# The Python Skalds needs Python >= 3.11.

PYSKALDS_VERSION="${SKALDS_PYSKALDS_VERSION:-0.3.8}"

_pyskalds_dir() { printf '%s/pyskalds-%s' "$SKALDS_BUILD_CACHE" "$PYSKALDS_VERSION"; }
_pyskalds_default_python() { printf '%s/venv/bin/python' "$(_pyskalds_dir)"; }
_pyskalds_python() {
  if given_var SKALDS_PYTHON "$(_pyskalds_default_python)"; then printf '%s' "$SKALDS_PYTHON"; else _pyskalds_default_python; fi
}
# The installed skalds version, or nothing.
_pyskalds_installed() {
  "$1" -c 'import importlib.metadata as m; print(m.version("skalds"))' 2>/dev/null || true
}

_pyskalds_venv() {
  local dir venv python
  dir="$(_pyskalds_dir)"
  venv="$dir/venv"
  python="$venv/bin/python"
  if [[ ${SKALDS_PYSKALDS_REINSTALL:-} == 1 ]]; then rm -rf "$venv"; fi
  if [[ -f "$venv/.complete" && "$(_pyskalds_installed "$python")" == "$PYSKALDS_VERSION" ]]; then
    log "pyskalds: skalds $PYSKALDS_VERSION in $venv (cached)"
    return 0
  fi
  command -v python3 >/dev/null || apt_install_missing python3
  python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' ||
    die "pyskalds: skalds $PYSKALDS_VERSION needs Python >= 3.11; python3 is $(python3 --version 2>&1)"
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install_missing python3-venv
  rm -rf "$venv"
  log "pyskalds: python3 -m venv $venv; pip install skalds[backend]==$PYSKALDS_VERSION"
  # Built in place (a venv's scripts name its own path); the .complete marker, written last, tells a finished
  # install from an interrupted one.
  python3 -m venv "$venv" >&2
  "$python" -m pip install -q "skalds[backend]==$PYSKALDS_VERSION" >&2 ||
    die "pyskalds: pip install skalds[backend]==$PYSKALDS_VERSION failed (output above)"
  "$python" -c 'import skalds.skald, skalds.system_controller.main, fastapi, uvicorn' >/dev/null 2>&1 ||
    die "pyskalds: skalds $PYSKALDS_VERSION installed in $venv, but does not import: $("$python" -c 'import skalds.skald, skalds.system_controller.main' 2>&1 | tail -3)"
  touch "$venv/.complete"
  log "pyskalds: skalds $PYSKALDS_VERSION installed in $venv"
}

# The examples/ folder of the release's sdist (its MANIFEST.in ships them), unpacked once next to the venv.
_pyskalds_examples() {
  local dir python tmp sdist
  dir="$(_pyskalds_dir)"
  [[ -f "$dir/examples/.complete" ]] && return 0
  python="$(_pyskalds_python)"
  tmp="$(mktemp -d)"
  log "pyskalds: pip download of the skalds $PYSKALDS_VERSION sdist, for its examples/"
  "$python" -m pip download -q --no-deps --no-binary :all: -d "$tmp" "skalds==$PYSKALDS_VERSION" >&2 ||
    die "pyskalds: pip download --no-binary :all: skalds==$PYSKALDS_VERSION failed (output above)"
  sdist="$(find "$tmp" -maxdepth 1 -name 'skalds-*.tar.gz' | head -1)"
  [[ -n $sdist ]] || die "pyskalds: no skalds sdist in $tmp"
  tar -xzf "$sdist" -C "$tmp"
  [[ -d "$tmp/skalds-$PYSKALDS_VERSION/examples" ]] || die "pyskalds: the skalds $PYSKALDS_VERSION sdist has no examples/"
  rm -rf "$dir/examples"
  mkdir -p "$dir"
  cp -r "$tmp/skalds-$PYSKALDS_VERSION/examples" "$dir/examples"
  touch "$dir/examples/.complete"
  rm -rf "$tmp"
}

pyskalds_up() {
  if given_var SKALDS_PYTHON "$(_pyskalds_default_python)"; then
    local have
    have="$(_pyskalds_installed "$SKALDS_PYTHON")"
    [[ -n $have ]] || die "pyskalds: the given SKALDS_PYTHON=$SKALDS_PYTHON does not import skalds"
    [[ $have == "$PYSKALDS_VERSION" ]] || warn "pyskalds: the given SKALDS_PYTHON has skalds $have, not $PYSKALDS_VERSION"
    log "pyskalds: using the given SKALDS_PYTHON=$SKALDS_PYTHON (skalds $have)"
  else
    _pyskalds_venv
  fi
  _pyskalds_examples
}

pyskalds_down() {
  log "pyskalds: a Python environment, not a server: nothing to stop"
}

pyskalds_status() {
  local python have
  python="$(_pyskalds_python)"
  have="$(_pyskalds_installed "$python")"
  if [[ -n $have ]]; then
    printf '%-22s %-44s %-5s %s\n' pyskalds "$python" installed "skalds $have"
  else
    printf '%-22s %-44s %-5s %s\n' pyskalds "$python" missing "skalds $PYSKALDS_VERSION"
  fi
}

pyskalds_env() {
  emit_export SKALDS_PYTHON "$(_pyskalds_python)"
  emit_export SKALDS_PYSKALDS_EXAMPLES "$(_pyskalds_dir)/examples"
}
