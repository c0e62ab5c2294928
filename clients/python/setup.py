"""Build hook: check the shipped gRPC stubs (moe_telemetry/_proto/) against ../../proto before build_py.

Metadata lives in pyproject.toml. The stubs are committed (generate_stubs.sh writes them), so a build
needs neither protoc nor grpc_python_plugin: when they match the proto (by its sha256), nothing is
generated. Only stubs that no longer match a proto found beside the package are regenerated, which
needs protoc + grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc) or grpcio-tools;
without them the shipped stubs are used with a warning (tests/test_stubs.py fails on such drift).
"""
import importlib.util
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _codegen():
    spec = importlib.util.spec_from_file_location(
        "_moe_telemetry_codegen", os.path.join(HERE, "moe_telemetry", "_codegen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class BuildPyWithStubs(build_py):
    def run(self):
        cg = _codegen()
        out = os.path.join(HERE, "moe_telemetry", "_proto")
        try:
            cg.generate(out_dir=out)
        except cg.CodegenError as e:
            if all(os.path.isfile(os.path.join(out, f)) for f in cg.GEN_FILES):
                self.warn(str(e) + " -- the shipped stubs in moe_telemetry/_proto/ do not match the proto; using them anyway")
            else:
                raise SystemExit(str(e))
        super().run()


setup(cmdclass={"build_py": BuildPyWithStubs})
