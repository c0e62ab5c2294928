#!/usr/bin/env bash
# Runs a bench on an exported copy of one commit, so the numbers belong to that commit even while the
# working tree is being edited (and its .next rebuilt) by others:
#
#   bash bench/snapshot.sh [--rev REV] [--build] -- npx tsx bench/prometheus.ts --shapes a
#
# The copy lives in $TMPDIR/moe-bench-snapshot-<sha> (kept for re-runs); node_modules is hard-linked from
# this checkout (no download), generated code is regenerated, --build runs `next build` in the copy.
# The benches print the commit from BENCH_COMMIT. The bench files themselves are taken from the working
# tree (bench/ is the harness, not the product under test).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=HEAD build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rev) rev="$2"; shift 2 ;;
    --build) build=1; shift ;;
    --) shift; break ;;
    *) echo "snapshot.sh: unknown option $1 (usage: [--rev REV] [--build] -- COMMAND...)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "snapshot.sh: no command given after --" >&2; exit 2; }
sha="$(git rev-parse --short "$rev")"
dir="${TMPDIR:-/tmp}/moe-bench-snapshot-$sha"
if [ ! -d "$dir" ]; then
  mkdir -p "$dir.partial"
  git archive "$sha" | tar -x -C "$dir.partial"
  cp -al node_modules "$dir.partial/node_modules"
  (cd "$dir.partial" && npm run --silent gen >/dev/null)
  mv "$dir.partial" "$dir"
fi
rm -rf "$dir/bench" && cp -r bench "$dir/bench"
if [ "$build" = 1 ] && [ ! -f "$dir/.next/BUILD_ID" ]; then
  (cd "$dir" && NEXT_TELEMETRY_DISABLED=1 npm run --silent build)
fi
cd "$dir"
BENCH_COMMIT="$sha (snapshot)" exec "$@"
