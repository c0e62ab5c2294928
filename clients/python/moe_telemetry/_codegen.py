"""Generate the gRPC/protobuf stubs for moe_telemetry from the repository's proto/ tree.

Used by setup.py (build step), by the runtime fallback in ``moe_telemetry._stubs`` when the
package runs from a source checkout, and mirrors ``generate_stubs.sh`` (used by CI).

This file must stay importable on its own (setup.py loads it by path, before the package
and its dependencies are importable): standard library only.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

PROTO_REL = os.path.join("moe", "telemetry", "v1", "telemetry.proto")
GEN_FILES = ("telemetry_pb2.py", "telemetry_pb2.pyi", "telemetry_pb2_grpc.py")

_HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(_HERE, "_proto")


class CodegenError(RuntimeError):
    pass


def find_proto_root(start: str | None = None) -> str:
    """Directory that contains moe/telemetry/v1/telemetry.proto.

    Order: $MOE_TELEMETRY_PROTO_DIR, <clients/python>/proto, <repo>/proto (../../proto).
    """
    pkg_root = os.path.dirname(_HERE) if start is None else start
    candidates = []
    env = os.environ.get("MOE_TELEMETRY_PROTO_DIR")
    if env:
        candidates.append(env)
    candidates.append(os.path.join(pkg_root, "proto"))
    candidates.append(os.path.join(pkg_root, "..", "..", "proto"))
    for c in candidates:
        if os.path.isfile(os.path.join(c, PROTO_REL)):
            return os.path.abspath(c)
    raise CodegenError(
        "moe_telemetry: cannot find %s; looked in %s. Set MOE_TELEMETRY_PROTO_DIR to the "
        "directory that holds moe/telemetry/v1/telemetry.proto." % (PROTO_REL, ", ".join(candidates))
    )


def _fix_imports(out_dir: str) -> None:
    """grpc_python_plugin writes `from moe.telemetry.v1 import telemetry_pb2 as ...`.
    Make it package-relative so the stubs live inside moe_telemetry._proto and never touch a
    top-level `moe` package (which could clash with anything else on sys.path)."""
    path = os.path.join(out_dir, "telemetry_pb2_grpc.py")
    with open(path, encoding="utf-8") as f:
        src = f.read()
    fixed = re.sub(r"^from moe\.telemetry\.v1 import ", "from . import ", src, flags=re.M)
    fixed = re.sub(r"^import moe\.telemetry\.v1\.telemetry_pb2 as ", "from . import telemetry_pb2 as ", fixed, flags=re.M)
    if "from moe." in fixed or "import moe." in fixed:
        raise CodegenError("moe_telemetry: unexpected absolute import left in %s" % path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(fixed)


def _protoc_cmd(proto_root: str, tmp: str):
    protoc = os.environ.get("PROTOC") or shutil.which("protoc")
    plugin = os.environ.get("GRPC_PYTHON_PLUGIN") or shutil.which("grpc_python_plugin")
    if protoc and plugin:
        return [protoc, "-I", proto_root, "--python_out=" + tmp, "--pyi_out=" + tmp,
                "--grpc_out=" + tmp, "--plugin=protoc-gen-grpc=" + plugin,
                os.path.join(proto_root, PROTO_REL)]
    # Machines with PyPI usually have grpcio-tools instead of Debian's protoc + plugin.
    try:
        import grpc_tools  # noqa: F401
        return [sys.executable, "-m", "grpc_tools.protoc", "-I", proto_root,
                "--python_out=" + tmp, "--pyi_out=" + tmp, "--grpc_python_out=" + tmp,
                os.path.join(proto_root, PROTO_REL)]
    except ImportError:
        pass
    raise CodegenError(
        "moe_telemetry: cannot generate the gRPC stubs: need `protoc` and `grpc_python_plugin` on PATH "
        "(Debian/Ubuntu: apt-get install protobuf-compiler protobuf-compiler-grpc) or the Python "
        "package grpcio-tools. Found protoc=%r grpc_python_plugin=%r." % (protoc, plugin)
    )


def is_up_to_date(out_dir: str = DEFAULT_OUT, proto_root: str | None = None) -> bool:
    if not all(os.path.isfile(os.path.join(out_dir, f)) for f in GEN_FILES):
        return False
    if proto_root is None:
        try:
            proto_root = find_proto_root()
        except CodegenError:
            return True  # installed package without the proto tree: what we have is what we use
    src = os.path.join(proto_root, PROTO_REL)
    newest_src = os.path.getmtime(src)
    return all(os.path.getmtime(os.path.join(out_dir, f)) >= newest_src for f in GEN_FILES)


def generate(out_dir: str = DEFAULT_OUT, proto_root: str | None = None, force: bool = False) -> str:
    """Generate stubs into out_dir (atomically per file). Returns out_dir."""
    proto_root = proto_root or find_proto_root()
    if not force and is_up_to_date(out_dir, proto_root):
        return out_dir
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="moe_telemetry_gen_")
    try:
        cmd = _protoc_cmd(proto_root, tmp)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise CodegenError("moe_telemetry: protoc failed (%s):\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
        gen = os.path.join(tmp, "moe", "telemetry", "v1")
        _fix_imports(gen)
        for name in GEN_FILES:
            src = os.path.join(gen, name)
            if not os.path.isfile(src):
                raise CodegenError("moe_telemetry: protoc did not produce %s" % name)
            dst = os.path.join(out_dir, name)
            shutil.copyfile(src, dst + ".tmp")
            os.replace(dst + ".tmp", dst)
        init = os.path.join(out_dir, "__init__.py")
        with open(init, "w", encoding="utf-8") as f:
            f.write("# Generated by moe_telemetry/_codegen.py from proto/%s. Do not edit.\n" % PROTO_REL.replace(os.sep, "/"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


if __name__ == "__main__":
    force = "--force" in sys.argv
    out = generate(force=force)
    print("moe_telemetry: stubs in %s" % out)
