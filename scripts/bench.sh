#!/usr/bin/env bash
# `npm run bench -- <suite...>`: brings up (or reuses) the local servers, then runs the named benchmark suites.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh up >&2
eval "$(bash scripts/services.sh env)"
exec node bench/run.ts "$@"
