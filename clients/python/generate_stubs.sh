#!/bin/sh
# Regenerate the committed Python gRPC stubs (clients/python/moe_telemetry/_proto/) from ../../proto after
# changing the proto, then commit them. Needs protoc and grpc_python_plugin (Debian: apt-get install -y
# protobuf-compiler protobuf-compiler-grpc) or grpcio-tools. `generate_stubs.sh --check` only compares.
# Installing the package does not run this: the stubs ship in the package.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
if [ "${1:-}" = "--check" ]; then
  exec "$PY" "$HERE/moe_telemetry/_codegen.py" --check
fi
exec "$PY" "$HERE/moe_telemetry/_codegen.py" --force
