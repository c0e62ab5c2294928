#!/usr/bin/env bash
# Quick start: install, build, start the collector + dashboard on the embedded SQLite database, and
# play a SIMULATED 64-rank Mixtral-like run against it. Open http://localhost:${PORT:-3000}.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
PORT="${PORT:-3000}"
COLLECTOR_PORT="${COLLECTOR_PORT:-50051}"

bash scripts/setup.sh
if [ ! -f .next/BUILD_ID ] || [ -n "$(find app components lib -newer .next/BUILD_ID -type f -print -quit)" ]; then
  echo "demo: building the dashboard (about a minute)"
  npm run --silent build
fi

node bin/moe-telemetry.mjs serve --port "$PORT" --collector-port "$COLLECTOR_PORT" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "demo: the server stopped; see the messages above" >&2; exit 1; }
  sleep 0.5
done
# The collector requires an ingest token (INGEST_AUTH=on by default): the demo makes its own for the
# simulator, and revokes it when the demo stops.
if [ "${INGEST_AUTH:-on}" != "off" ]; then
  created=$(node bin/moe-telemetry.mjs tokens create --project default --name "demo simulator" --json)
  MOE_TELEMETRY_TOKEN=$(printf '%s' "$created" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')
  token_id=$(printf '%s' "$created" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).id)')
  export MOE_TELEMETRY_TOKEN
  trap 'node bin/moe-telemetry.mjs tokens revoke "$token_id" >/dev/null 2>&1; kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' EXIT INT TERM
fi
echo
echo "demo: dashboard at http://localhost:$PORT, collector at 127.0.0.1:$COLLECTOR_PORT"
echo "demo: on the first visit the dashboard asks for the setup code printed above (\"no dashboard users yet\")"
echo "      to create its admin; or start the demo with MOE_ADMIN_USER and MOE_ADMIN_PASSWORD set, or DASHBOARD_AUTH=off"
echo "demo: playing a SIMULATED 64-rank run (early-imbalance, 500 steps, 5 steps/s); Ctrl-C stops everything"
node bin/moe-telemetry.mjs simulate --collector "127.0.0.1:$COLLECTOR_PORT" --ranks 64 --steps 500 --scenario early-imbalance --step-interval-ms 200 || true
echo "demo: simulation done; the dashboard keeps running (Ctrl-C to stop)"
wait "$server"
