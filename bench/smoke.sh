#!/usr/bin/env bash
# Smoke run of every bench at tiny sizes (seconds each), so the benches do not rot: each must run and
# print its table. No timing is asserted. scripts/test.sh calls this after the dashboard build.
# Prometheus must be installed (scripts/setup.sh --test installs it): without it the Prometheus smoke
# fails with the install hint instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# smoke NAME PATTERN CMD...: runs CMD, fails (with its output) if it fails or prints no line matching PATTERN.
smoke() {
  local name="$1" pattern="$2"; shift 2
  local out
  out="$(mktemp)"
  echo "--- bench smoke: $name"
  if ! "$@" >"$out" 2>&1; then
    cat "$out"; rm -f "$out"
    echo "bench smoke: $name FAILED" >&2
    exit 1
  fi
  if ! grep -qE "$pattern" "$out"; then
    cat "$out"; rm -f "$out"
    echo "bench smoke: $name printed no table" >&2
    exit 1
  fi
  tail -n 8 "$out"; rm -f "$out"
}

table='^\|.*\|$'
smoke "ingest + limits"          "$table" npx tsx bench/ingest.ts --smoke
smoke "scaling and real time"    "$table" npx tsx bench/scaling.ts --smoke
smoke "Prometheus side-by-side"  "$table" npx tsx bench/prometheus.ts --smoke
smoke "report-to-banner latency" "$table" npx tsx bench/bannerLatency.ts --iterations 2
smoke "run page load"            "$table" npx tsx bench/pageLoad.ts --smoke
smoke "counts' encoding floor"   "$table" npx tsx bench/countsFloor.ts --smoke
smoke "Python client overhead"   "hook cost us" sh -c 'sh clients/python/generate_stubs.sh && /usr/bin/python3 clients/python/bench_overhead.py --layers 2 --experts 8 --steps 5 --tokens 256'
smoke "soak (memory over time)" "$table" npx tsx bench/soak.ts --smoke --ranks 64 --sample-s 2
