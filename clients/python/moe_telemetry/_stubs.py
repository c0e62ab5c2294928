"""Loads the generated protobuf/gRPC modules (moe_telemetry/_proto/).

The stubs are committed in the package (generate_stubs.sh writes them after a proto change). Should
they be missing (a damaged checkout), they are generated on first import if protoc is available;
otherwise the ImportError says what to run.
"""
from __future__ import annotations

try:
    from ._proto import telemetry_pb2 as pb  # noqa: F401
    from ._proto import telemetry_pb2_grpc as pb_grpc  # noqa: F401
except ImportError as _first:  # pragma: no cover - exercised only in fresh checkouts
    from . import _codegen

    try:
        _codegen.generate()
    except _codegen.CodegenError as e:
        raise ImportError(
            "moe_telemetry: the generated gRPC stubs (moe_telemetry/_proto/) are missing and could not "
            "be generated: %s\nRun clients/python/generate_stubs.sh, or install the package with pip." % e
        ) from _first
    import importlib

    importlib.invalidate_caches()
    from ._proto import telemetry_pb2 as pb  # noqa: F401
    from ._proto import telemetry_pb2_grpc as pb_grpc  # noqa: F401

__all__ = ["pb", "pb_grpc"]
