"""The gRPC stubs ship in the package (no protoc at install time): they must match the proto, and the
README's Debian line must install a working client without protoc or grpc_python_plugin."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from moe_telemetry import _codegen

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
PROTO_ROOT = os.path.join(PKG, "..", "..", "proto")
STUBS = os.path.join(PKG, "moe_telemetry", "_proto")


def test_shipped_stubs_were_generated_from_the_proto_as_it_is():
    """No protoc needed: the sha256 recorded at generation is the proto's."""
    assert _codegen.recorded_sha256(STUBS) == _codegen.proto_sha256(PROTO_ROOT), (
        "proto/moe/telemetry/v1/telemetry.proto changed since the stubs were generated: "
        "run clients/python/generate_stubs.sh and commit moe_telemetry/_proto/")


@pytest.mark.skipif(not (shutil.which("protoc") and shutil.which("grpc_python_plugin")),
                    reason="needs protoc and grpc_python_plugin (apt-get install protobuf-compiler protobuf-compiler-grpc)")
def test_shipped_stubs_equal_a_fresh_generation():
    assert _codegen.check(STUBS, PROTO_ROOT) == []


def test_shipped_stubs_know_the_current_messages():
    from moe_telemetry._stubs import pb

    assert pb.RankHello(client_instance="x").client_instance == "x"
    assert pb.ServerMessage(conflicts=pb.BatchResult(seq=2)).WhichOneof("kind") == "conflicts"


def _fresh_checkout(dst):
    """What a clone has of clients/python and proto/: the files git tracks (or would: untracked, not
    ignored), never stubs a developer generated locally. Without git, the directories as they are."""
    root = os.path.abspath(os.path.join(PKG, "..", ".."))
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "-z",
                              "--", "clients/python", "proto"], capture_output=True, check=True, timeout=60).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = None
    if not files:
        shutil.copytree(PKG, os.path.join(dst, "clients", "python"),
                        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "_proto"))
        shutil.copytree(os.path.join(root, "proto"), os.path.join(dst, "proto"))
        return
    for f in files:
        if os.path.isfile(os.path.join(root, f)):
            os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
            shutil.copyfile(os.path.join(root, f), os.path.join(dst, f))


def test_readme_pip_line_installs_without_protoc():
    """`pip install --no-build-isolation ./clients/python` with Debian's python3-grpcio python3-protobuf
    python3-setuptools and nothing else: PATH holds no protoc and no grpc_python_plugin, so a build that
    tried to generate stubs would fail; the installed package must import its stubs."""
    target = tempfile.mkdtemp(prefix="moe_py_pip_")
    bare = tempfile.mkdtemp(prefix="moe_py_path_")  # a PATH with python3 only
    try:
        os.symlink(sys.executable, os.path.join(bare, "python3"))
        env = {k: v for k, v in os.environ.items() if k not in ("PROTOC", "GRPC_PYTHON_PLUGIN", "PYTHONPATH")}
        env.update(PATH=bare, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        src = os.path.join(target, "src")
        _fresh_checkout(src)
        r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                            "--target", os.path.join(target, "site"), os.path.join(src, "clients", "python")],
                           env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "protoc" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
        code = ("import moe_telemetry, moe_telemetry._stubs as s; "
                "assert s.pb.RankHello(client_instance='a').client_instance == 'a'; "
                "assert hasattr(s.pb_grpc, 'TelemetryStub'); print(moe_telemetry.__file__)")
        r = subprocess.run([sys.executable, "-c", code], env=dict(env, PYTHONPATH=os.path.join(target, "site")),
                           cwd=target, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.strip().startswith(os.path.join(target, "site")), r.stdout
    finally:
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(bare, ignore_errors=True)
