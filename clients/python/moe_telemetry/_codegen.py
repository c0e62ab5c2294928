"""Generate the gRPC/protobuf stubs for moe_telemetry from the repository's proto/ tree.

The stubs it writes (moe_telemetry/_proto/) are committed, so building and installing the package
needs no protoc. Run it (or ``generate_stubs.sh``) after changing the proto; ``--check`` and
tests/test_stubs.py fail when the committed stubs drift from the proto.

This file must stay importable on its own (setup.py loads it by path, before the package
and its dependencies are importable): standard library only.
"""
from __future__ import annotations

import hashlib
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


def proto_sha256(proto_root: str) -> str:
    """The sha256 of telemetry.proto, recorded in the generated _proto/__init__.py."""
    with open(os.path.join(proto_root, PROTO_REL), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def recorded_sha256(out_dir: str = DEFAULT_OUT) -> str | None:
    """The proto sha256 the stubs in out_dir were generated from (None if unknown)."""
    try:
        with open(os.path.join(out_dir, "__init__.py"), encoding="utf-8") as f:
            m = re.search(r'^PROTO_SHA256 = "([0-9a-f]{64})"', f.read(), flags=re.M)
    except OSError:
        return None
    return m.group(1) if m else None


def is_up_to_date(out_dir: str = DEFAULT_OUT, proto_root: str | None = None) -> bool:
    """True when out_dir holds every stub, generated from the proto as it is now (by content, not mtime:
    a git checkout sets arbitrary mtimes). Without a proto tree (an installed package) the stubs are taken as they are."""
    if not all(os.path.isfile(os.path.join(out_dir, f)) for f in GEN_FILES):
        return False
    if proto_root is None:
        try:
            proto_root = find_proto_root()
        except CodegenError:
            return True  # installed package without the proto tree: what we have is what we use
    return recorded_sha256(out_dir) == proto_sha256(proto_root)


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
            f.write("# Generated by moe_telemetry/_codegen.py (clients/python/generate_stubs.sh) from proto/%s.\n"
                    "# Do not edit; committed so that installing the package needs no protoc. tests/test_stubs.py\n"
                    "# fails when they drift from the proto.\n"
                    "PROTO_SHA256 = \"%s\"\n" % (PROTO_REL.replace(os.sep, "/"), proto_sha256(proto_root)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def check(out_dir: str = DEFAULT_OUT, proto_root: str | None = None) -> list:
    """Regenerate into a temporary directory and list the files of out_dir that differ ([] = no drift)."""
    tmp = tempfile.mkdtemp(prefix="moe_telemetry_check_")
    try:
        generate(out_dir=tmp, proto_root=proto_root, force=True)
        bad = []
        for name in GEN_FILES + ("__init__.py",):
            try:
                with open(os.path.join(out_dir, name), "rb") as a, open(os.path.join(tmp, name), "rb") as b:
                    if a.read() != b.read():
                        bad.append(name)
            except OSError:
                bad.append(name)
        return bad
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if "--check" in sys.argv:
        drift = check()
        if drift:
            print("moe_telemetry: stubs in %s differ from the proto: %s (run clients/python/generate_stubs.sh "
                  "and commit them)" % (DEFAULT_OUT, ", ".join(drift)), file=sys.stderr)
            sys.exit(1)
        print("moe_telemetry: stubs match the proto")
        sys.exit(0)
    out = generate(force="--force" in sys.argv)
    print("moe_telemetry: stubs in %s" % out)
