"""Ingest tokens and TLS against the REAL collector (node bin/moe-telemetry.mjs collector).

Auth on: the collector's first start creates and prints the quick-start token, which the client
sends (token= or MOE_TELEMETRY_TOKEN); without it the client logs ONE clear error and training goes on.
TLS: a throw-away CA made with the openssl CLI; the client trusts it through tls_ca.
"""
import logging
import os
import re
import shutil
import subprocess
import tempfile

import pytest
import torch

import moe_telemetry
from test_integration_collector import ARGS, CLI, FAST, NODE, REPO, Collector, key, layers_by_step, pytestmark  # noqa: F401
from tiny_moe import TinyMoEModel, make_batches, train_step

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


class Records(logging.Handler):
    """Collects the moe_telemetry logger's records (pytest runs with -p no:logging, so no caplog)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def errors(self):
        return [r.getMessage() for r in self.records if r.levelno >= logging.ERROR]


@pytest.fixture
def records():
    h = Records()
    log = logging.getLogger("moe_telemetry")
    log.addHandler(h)
    yield h
    log.removeHandler(h)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="moe_py_auth_")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def stored_layers(c, run_key):
    """{(step, layer): row} stored for the run; {} when the run was never registered."""
    r = subprocess.run([NODE, CLI, "dump", "--database", c.db, "--run", run_key], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 and "is not registered" in r.stderr:
        return {}
    assert r.returncode == 0, r.stderr
    return layers_by_step(c.dump(run_key))


def run_steps(s, n=3):
    model = TinyMoEModel(session=s)
    s.attach(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = make_batches(n * 2)
    for it in range(1, n + 1):
        with s.guard_step(it):
            loss = train_step(model, opt, batches[(it - 1) * 2: it * 2])
        s.step(it, lm_loss=loss)


@pytest.fixture
def authed(tmp):
    c = Collector(os.path.join(tmp, "t.db"), env={"INGEST_AUTH": "on"}).start()
    yield c
    c.stop()


def quick_start_token(c):
    m = re.search(r"export MOE_TELEMETRY_TOKEN=(moe_\S+)", "".join(c.lines))
    assert m, "the collector's first start did not print a quick-start token:\n" + "".join(c.lines[-20:])
    return m.group(1)


def test_quick_start_token_lets_data_in_by_argument_and_by_env(authed, monkeypatch):
    token = quick_start_token(authed)
    rk = key()
    s = moe_telemetry.init(collector=authed.address, run_key=rk, args=ARGS, rank=0, world_size=1, token=token, **FAST)
    run_steps(s)
    assert s.flush(30), s.stats()
    s.close(10)
    assert len(layers_by_step(authed.dump(rk))) == 6

    monkeypatch.setenv("MOE_TELEMETRY_TOKEN", token)
    rk2 = key()
    s2 = moe_telemetry.init(collector=authed.address, run_key=rk2, args=ARGS, rank=0, world_size=1, **FAST)
    run_steps(s2)
    assert s2.flush(30), s2.stats()
    s2.close(10)
    assert len(layers_by_step(authed.dump(rk2))) == 6


@pytest.mark.parametrize("token", [None, "moe_" + "x" * 43])
def test_refused_token_logs_one_clear_error_and_training_goes_on(authed, records, monkeypatch, token):
    monkeypatch.delenv("MOE_TELEMETRY_TOKEN", raising=False)
    rk = key()
    s = moe_telemetry.init(collector=authed.address, run_key=rk, args=ARGS, rank=0, world_size=1, token=token, **FAST)
    assert s.enabled
    run_steps(s, n=3)  # must not raise
    assert not s.flush(3)  # several reconnect attempts happen meanwhile (back-off up to 0.5 s)
    st = s.stats()
    s.close(1)
    assert st.get("auth_errors", 0) >= 2, st
    refused = [m for m in records.errors() if "refused this rank" in m]
    assert len(refused) == 1, records.errors()
    assert "UNAUTHENTICATED" in refused[0] and "MOE_TELEMETRY_TOKEN" in refused[0]
    if token:
        assert token not in refused[0]
    assert stored_layers(authed, rk) == {}


def openssl(cwd, *args):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


def make_ca_and_server(d):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(d, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=py-test-ca")
    openssl(d, "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl(d, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext")


def test_tls_round_trip_with_a_test_ca(tmp, monkeypatch):
    for v in ("MOE_TELEMETRY_TLS_CA", "MOE_TELEMETRY_TLS_CERT", "MOE_TELEMETRY_TLS_KEY", "MOE_TELEMETRY_TOKEN"):
        monkeypatch.delenv(v, raising=False)
    make_ca_and_server(tmp)
    c = Collector(os.path.join(tmp, "t.db"), args=["--tls-cert", os.path.join(tmp, "server.pem"),
                                                   "--tls-key", os.path.join(tmp, "server.key")]).start()
    try:
        rk = key()
        s = moe_telemetry.init(collector=c.address, run_key=rk, args=ARGS, rank=0, world_size=1,
                               tls_ca=os.path.join(tmp, "ca.pem"), **FAST)
        run_steps(s)
        assert s.flush(30), s.stats()
        s.close(10)
        assert len(layers_by_step(c.dump(rk))) == 6

        plain = key()
        s2 = moe_telemetry.init(collector=c.address, run_key=plain, args=ARGS, rank=0, world_size=1, **FAST)
        run_steps(s2, n=1)
        assert not s2.flush(2)
        s2.close(1)
        assert stored_layers(c, plain) == {}
    finally:
        c.stop()


def test_unreadable_tls_file_turns_telemetry_off_with_a_message(records):
    s = moe_telemetry.init(collector="127.0.0.1:1", run_key=key(), args=ARGS, rank=0, world_size=1,
                           tls_ca="/nonexistent/ca.pem", **FAST)
    assert not s.enabled
    assert any("tls_ca" in m and "/nonexistent/ca.pem" in m for m in records.errors()), records.errors()
