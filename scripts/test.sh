#!/usr/bin/env bash
# The whole test suite: type-checks and lints, brings up (or reuses) the local servers, reads their addresses, runs
# every test file.
# Servers given through env vars (REDIS_URL, REDIS_LEGACY_URL, REDIS_CLUSTER_NODES, ...) are used instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 from the pinned devDependency, also when this script is run directly rather than through npm.
export PATH="$PWD/node_modules/.bin:$PATH"
# A type or lint error (the dependency rules included) fails the run at once, before any server is started.
npm run --silent typecheck
npm run --silent lint
bash scripts/services.sh up >&2
eval "$(bash scripts/services.sh env)"
files=("$@")
[ ${#files[@]} -gt 0 ] || files=("test/**/*.test.ts")
exec node --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout="${TEST_TIMEOUT_MS:-180000}" "${files[@]}"
