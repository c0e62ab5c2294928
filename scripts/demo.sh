#!/usr/bin/env bash
# Quick start: install, start the collector and a SIMULATED 64-rank Mixtral-like run on the embedded SQLite
# database, build the dashboard meanwhile, then serve it. Open http://localhost:${PORT:-3000}.
#
# Timings (README, "Quick start"): npm ci ~4 min on 2 cores (better-sqlite3 compiles), the dashboard build
# 25 s to 3 min depending on the machine's load. The collector and the simulated run start before the build,
# so the run is already under way when the dashboard opens. Each step's full output goes to data/demo-*.log;
# the last lines printed are the dashboard URL and, on a first start, the one-time setup code.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
PORT="${PORT:-3000}"
COLLECTOR_PORT="${COLLECTOR_PORT:-50051}"
LOGS=data
mkdir -p "$LOGS"
SECONDS=0
say() { printf 'demo [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

# wait_for PID WHAT LOG: waits for a background step, printing how long it has taken every 15 s.
wait_for() {
  local pid=$1 what=$2 log=$3 n=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    n=$((n + 1))
    [ $((n % 15)) -eq 0 ] && say "$what… ${n} s so far (log: $log)"
  done
  wait "$pid"
}

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci; ~4 min on 2 cores, better-sqlite3 compiles)"
  bash scripts/setup.sh >"$LOGS/demo-setup.log" 2>&1 &
  wait_for $! "npm ci" "$LOGS/demo-setup.log" || { tail -n 30 "$LOGS/demo-setup.log" >&2; exit 1; }
  say "npm packages installed"
fi

pids=()
token_id=""
cleanup() {
  [ -n "$token_id" ] && node bin/moe-telemetry.mjs tokens revoke "$token_id" >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The collector needs no build: start it (it applies the database migrations) and the simulated run first.
node bin/moe-telemetry.mjs collector --port "$COLLECTOR_PORT" >"$LOGS/demo-collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  grep -q "collector listening" "$LOGS/demo-collector.log" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || { tail -n 30 "$LOGS/demo-collector.log" >&2; echo "demo: the collector stopped" >&2; exit 1; }
  sleep 0.5
done
say "collector on 127.0.0.1:$COLLECTOR_PORT (log: $LOGS/demo-collector.log)"

# The collector requires an ingest token (INGEST_AUTH=on by default): the demo makes its own for the
# simulator, and revokes it when the demo stops.
if [ "${INGEST_AUTH:-on}" != "off" ]; then
  created=$(node bin/moe-telemetry.mjs tokens create --project default --name "demo simulator" --json)
  MOE_TELEMETRY_TOKEN=$(printf '%s' "$created" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')
  token_id=$(printf '%s' "$created" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).id)')
  export MOE_TELEMETRY_TOKEN
fi

node bin/moe-telemetry.mjs simulate --collector "127.0.0.1:$COLLECTOR_PORT" --ranks 64 --steps 500 --scenario early-imbalance \
  --step-interval-ms 200 >"$LOGS/demo-simulate.log" 2>&1 &
pids+=($!)
say "playing a SIMULATED 64-rank run (early-imbalance, 500 steps, 5 steps/s; log: $LOGS/demo-simulate.log)"

if [ ! -f .next/BUILD_ID ] || [ -n "$(find app components lib -newer .next/BUILD_ID -type f -print -quit)" ]; then
  say "building the dashboard (25 s to 3 min; log: $LOGS/demo-build.log)"
  npm run --silent build >"$LOGS/demo-build.log" 2>&1 &
  wait_for $! "building the dashboard" "$LOGS/demo-build.log" || { tail -n 40 "$LOGS/demo-build.log" >&2; exit 1; }
  say "dashboard built"
fi

# The dashboard alone (the process `moe-telemetry serve` runs next to its collector); same working directory
# and DATABASE_URL as the collector, so the same database.
NODE_ENV=production MOE_TELEMETRY_ROOT="$PWD" INGEST_AUTH="${INGEST_AUTH:-on}" \
  node --import tsx/esm cli/dashboardEntry.ts --port "$PORT" >"$LOGS/demo-dashboard.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || { tail -n 30 "$LOGS/demo-dashboard.log" >&2; echo "demo: the dashboard stopped" >&2; exit 1; }
  sleep 0.5
done
# The first page request prints the setup code if there is no user yet; give it a moment to be written.
sleep 1
say "ready"
echo
if [ -n "${MOE_TELEMETRY_TOKEN:-}" ]; then
  echo "Try the OOM scenario next to it (this token works until the demo stops):"
  echo "  MOE_TELEMETRY_TOKEN=$MOE_TELEMETRY_TOKEN npx moe-telemetry simulate --collector 127.0.0.1:$COLLECTOR_PORT --scenario oom --steps 300"
  echo
fi
echo "Ctrl-C stops everything. Logs: $LOGS/demo-{collector,simulate,build,dashboard}.log"
setup_line=$(grep -h "no dashboard users yet" "$LOGS/demo-dashboard.log" | tail -n 1 || true)
if [ -n "$setup_line" ]; then
  code=$(printf '%s' "$setup_line" | sed -n 's/.*setup code \([A-Z0-9-]*\).*/\1/p')
  echo "First visit: the dashboard asks for this one-time setup code to create its admin:"
  echo
  echo "  setup code: $code"
fi
echo "  dashboard:  http://localhost:$PORT"
wait "${pids[-1]}"
