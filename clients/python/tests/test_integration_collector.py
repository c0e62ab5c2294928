"""Integration tests against the REAL collector (node bin/moe-telemetry.mjs collector).

Skipped with a reason when node or the collector is not available. Contract used:
  node bin/moe-telemetry.mjs collector --port 0 --database file:/tmp/x.db
      -> prints a line containing "listening on" and ":PORT" when ready
  node bin/moe-telemetry.mjs dump --database file:/tmp/x.db --run RUN_KEY
      -> JSON lines {"kind":"layer"|"step"|"oom"|...}
Set MOE_TELEMETRY_REPO to the repository root if the tests do not run from the checkout.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import torch

import moe_telemetry
from tiny_moe import TinyMoEModel, expected_counts_per_step, make_batches, train_step

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("MOE_TELEMETRY_REPO") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CLI = os.path.join(REPO, "bin", "moe-telemetry.mjs")
NODE = shutil.which("node")
START_TIMEOUT = float(os.environ.get("MOE_TELEMETRY_COLLECTOR_START_TIMEOUT", "90"))

pytestmark = pytest.mark.skipif(
    NODE is None or not os.path.isfile(CLI) or not os.path.isdir(os.path.join(REPO, "node_modules")),
    reason="real collector not available (needs node, %s and npm dependencies installed)" % CLI,
)

FAST = dict(backoff_initial=0.05, backoff_max=0.5, install_excepthook=False, close_timeout=10.0, rpc_timeout=5.0)
ARGS = {"num_experts": 4, "moe_router_topk": 2, "num_layers": 2, "hidden_size": 16, "seq_length": 8,
        "micro_batch_size": 4, "global_batch_size": 8, "tensor_model_parallel_size": 1,
        "pipeline_model_parallel_size": 1, "context_parallel_size": 1, "expert_model_parallel_size": 1,
        "moe_router_load_balancing_type": "aux_loss", "moe_aux_loss_coeff": 0.01}


class Collector:
    """A real collector process. Ingest tokens are off unless `env` sets INGEST_AUTH (test_auth_tls.py);
    `args` adds command-line flags (TLS)."""

    def __init__(self, db_path, env=None, args=()):
        self.db = "file:" + db_path
        self.proc = None
        self.port = None
        self.lines = []
        self.env = {**os.environ, "INGEST_AUTH": "off", **(env or {})}
        self.args = list(args)

    def start(self, port=0):
        self.proc = subprocess.Popen([NODE, CLI, "collector", "--port", str(port), "--database", self.db] + self.args,
                                     cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True, env=self.env)
        found = threading.Event()

        def reader(proc=self.proc):
            for line in proc.stdout:
                self.lines.append(line)
                m = re.search(r"listening on \S*?:(\d+)", line)
                if m and not found.is_set():
                    self.port = int(m.group(1))
                    found.set()

        threading.Thread(target=reader, daemon=True).start()
        if not found.wait(START_TIMEOUT):
            self.kill()
            pytest.fail("collector did not print 'listening on ...:PORT' within %ss:\n%s" % (START_TIMEOUT, "".join(self.lines[-30:])))
        return self

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(10)
        self.proc = None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def dump(self, run_key):
        r = subprocess.run([NODE, CLI, "dump", "--database", self.db, "--run", run_key], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip().startswith("{")]


@pytest.fixture
def collector():
    d = tempfile.mkdtemp(prefix="moe_py_it_")
    c = Collector(os.path.join(d, "t.db")).start()
    yield c
    c.stop()
    shutil.rmtree(d, ignore_errors=True)


def key():
    return "py-it-" + uuid.uuid4().hex[:10]


def layers_by_step(rows):
    return {(r["step"], r["layer"]): r for r in rows if r["kind"] == "layer"}


def test_counts_match_model_routing_maps(collector):
    rk = key()
    s = moe_telemetry.init(collector=collector.address, run_key=rk, args=ARGS, rank=0, world_size=1, **FAST)
    model = TinyMoEModel(session=s)
    assert s.attach(model) == 2
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = make_batches(10)
    for it in range(1, 6):
        with s.guard_step(it):
            loss = train_step(model, opt, batches[(it - 1) * 2: it * 2])
        s.step(it, lm_loss=loss)
    assert s.flush(30), s.stats()
    s.close(10)
    rows = collector.dump(rk)
    got = layers_by_step(rows)
    exp = expected_counts_per_step(model, [2] * 5)
    assert len(got) == 10
    for (step, layer), r in got.items():
        assert r["tokensPerExpert"] == exp[layer][step - 1]
        assert r["tokens"] == 64 and r["rank"] == 0
        assert 0.9 < r["losses"]["load_balancing_loss"] < 2.0
    steps = sorted(r["step"] for r in rows if r["kind"] == "step")
    assert steps == [1, 2, 3, 4, 5]


def test_collector_sigkill_and_restart_nothing_lost(collector):
    rk = key()
    s = moe_telemetry.init(collector=collector.address, run_key=rk, args=ARGS, rank=0, world_size=1, **FAST)
    model = TinyMoEModel(session=s)
    s.attach(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    n_steps = 30
    batches = make_batches(n_steps * 2)
    port = collector.port
    step_times = []
    for it in range(1, n_steps + 1):
        if it == 10:
            collector.kill(signal.SIGKILL)  # mid-run, with whatever is in flight
        if it == 20:
            collector.start(port=port)  # same database, same port
        t = time.monotonic()
        with s.guard_step(it):
            train_step(model, opt, batches[(it - 1) * 2: it * 2])
        s.step(it)
        step_times.append(time.monotonic() - t)
    assert s.flush(60), s.stats()
    st = s.stats()
    s.close(10)
    rows = collector.dump(rk)
    got = layers_by_step(rows)
    exp = expected_counts_per_step(model, [2] * n_steps)
    assert sorted({k[0] for k in got}) == list(range(1, n_steps + 1)), st
    for (step, layer), r in got.items():
        assert r["tokensPerExpert"] == exp[layer][step - 1], (step, layer)
    assert sorted(r["step"] for r in rows if r["kind"] == "step") == list(range(1, n_steps + 1))
    assert st.get("batches_dropped", 0) == 0


def test_oom_inside_step_arrives_as_event(collector):
    rk = key()
    s = moe_telemetry.init(collector=collector.address, run_key=rk, args=ARGS, rank=3, world_size=4, **FAST)
    model = TinyMoEModel(session=s)
    s.attach(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with s.guard_step(1):
        train_step(model, opt, make_batches(2))
    s.step(1)
    model.layers[1].router.raise_oom = torch.cuda.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 3.50 GiB. GPU 0 has a total capacity of 79.32 GiB")
    with pytest.raises(torch.cuda.OutOfMemoryError):
        with s.guard_step(2):
            train_step(model, opt, make_batches(2, seed=5))
    assert s.stats()["oom_reported"] == 1
    s.close(10, finished=False)
    ooms = [r for r in collector.dump(rk) if r["kind"] == "oom"]
    assert len(ooms) == 1
    o = ooms[0]
    assert o["rank"] == 3 and o["step"] == 2 and o["layer"] == 2 and o["phase"] == "forward"
    assert "out of memory" in o["message"]
