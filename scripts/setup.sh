#!/usr/bin/env bash
# Installs what the project needs on a Debian machine: npm packages always; with --test also the
# system packages the tests use (Debian's Chromium for Playwright, Python gRPC/protobuf/PyTorch and
# protoc for the Python client, Prometheus for the side-by-side bench). Nothing is downloaded from
# outside the npm and Debian registries.
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
[ "${1:-}" = "--test" ] && with_test=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$with_test" = 1 ]; then
  missing=()
  [ -x "${PLAYWRIGHT_CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
  command -v protoc >/dev/null || missing+=(protobuf-compiler)
  [ -x /usr/bin/grpc_python_plugin ] || missing+=(protobuf-compiler-grpc)
  /usr/bin/python3 -c 'import grpc' 2>/dev/null || missing+=(python3-grpcio)
  /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || missing+=(python3-protobuf)
  /usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
  /usr/bin/python3 -c 'import pytest' 2>/dev/null || missing+=(python3-pytest)
  /usr/bin/python3 -c 'import setuptools' 2>/dev/null || missing+=(python3-setuptools)
  # The Prometheus side-by-side bench (bench/prometheus.ts) and its smoke run in scripts/test.sh.
  [ -x /usr/bin/prometheus ] || missing+=(prometheus)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # The package enables a system Prometheus on :9090; the bench starts its own, so keep that one off.
    if [[ " ${missing[*]} " == *" prometheus "* ]]; then
      as_root systemctl disable --now prometheus >/dev/null 2>&1 || as_root service prometheus stop >/dev/null 2>&1 || true
    fi
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (compiles better-sqlite3; about 2-3 minutes on 2 cores)"
  npm ci --no-audit --no-fund
else
  npm run --silent gen
fi
