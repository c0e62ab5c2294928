#!/usr/bin/env bash
# Installs everything the tests need, then runs every test: lint, typecheck, unit, integration
# (real collector, real SQLite), the Python client against the real collector, and the browser tests
# (Playwright + Debian Chromium against the built app). Ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

bash scripts/setup.sh --test
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
step() { echo; echo "==> $*"; }

step "lint";        npm run --silent lint
step "typecheck";   npm run --silent typecheck
step "unit tests";  npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$results/unit.json"
step "integration tests (real collector, real SQLite)"
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$results/integration.json"
step "integration tests (real collector, real PostgreSQL at ${TEST_POSTGRES_URL:-127.0.0.1:5432})"
bash scripts/ensurePostgres.sh
TEST_DATABASE=postgresql npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$results/integration-pg.json"
step "Python client tests"
bash clients/python/generate_stubs.sh --check   # the shipped stubs must match the proto
PYTHONPATH=clients/python /usr/bin/python3 -m pytest -q -p no:logging clients/python/tests --junitxml="$results/python.xml"
step "build the dashboard"; npm run --silent build
step "browser tests (Playwright, Chromium)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$results/e2e.json" npx playwright test --reporter=list,json
step "bench smoke (every bench at tiny sizes; no timing asserted)"; bash bench/smoke.sh
node scripts/summarizeTests.mjs "$results"
