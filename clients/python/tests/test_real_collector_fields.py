"""The Python client against the REAL collector, checked from the outside with `dump` / `export`.

1. A restarted job (a second process, same run key and rank, a new client_instance) that re-sends steps
   31-50 after the first sent 1-50: every step 1-80 is stored and close() says so only when it is true.
2. A conflicting rewrite of a stored (step, layer, rank) is refused per record (ALREADY_EXISTS, reason naming
   the key), counted and logged by the client; the first write stays. An identical resend is silent.
3. Losses in Megatron-Core's exact loop order (train_step -> iteration += 1 -> training_log -> the metrics
   tracker's report(), which all-reduces in place and then clears itself; after evaluation a bare clear()):
   step N stores what training_log reported for iteration N.
4. With a capacity factor both the dispatched and the before-drop counts are stored and the stored aggregate
   load (what the dashboard and MaxVio use) is the before-drop one.

Skipped with the reason when node or the collector is not available (see test_integration_collector.py).
"""
import json
import logging
import os
import subprocess
import sys
import tempfile
import shutil
import types
import uuid
from dataclasses import dataclass

import pytest
import torch

import moe_telemetry
from test_integration_collector import CLI, NODE, REPO, Collector, pytestmark  # noqa: F401 (skip marker)
from tiny_moe import TinyMoEModel, make_batches, train_step

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
FAST = dict(backoff_initial=0.05, backoff_max=0.5, install_excepthook=False, close_timeout=30.0, rpc_timeout=5.0)
ARGS = {"num_experts": 4, "moe_router_topk": 2, "num_layers": 2, "hidden_size": 16, "seq_length": 8,
        "micro_batch_size": 4, "global_batch_size": 8, "tensor_model_parallel_size": 1,
        "pipeline_model_parallel_size": 1, "context_parallel_size": 1, "expert_model_parallel_size": 1,
        "moe_router_load_balancing_type": "aux_loss", "moe_aux_loss_coeff": 0.01}
MICRO = 2


@pytest.fixture
def collector():
    d = tempfile.mkdtemp(prefix="moe_py_fields_")
    c = Collector(os.path.join(d, "t.db")).start()
    yield c
    c.stop()
    shutil.rmtree(d, ignore_errors=True)


def key():
    return "py-fields-" + uuid.uuid4().hex[:10]


def export_json(c, run_key):
    r = subprocess.run([NODE, CLI, "export", run_key, "--format", "json", "--database", c.db], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


# ---------------------------------------------------------------------------------------------------------
# 1. restarted job: a second process re-sends 31-50 and goes on to 80

# One training "job" as its own Python process: a frozen model (lr 0) and batches fixed per step, so a restart
# that redoes steps 31-50 from a checkpoint produces the very same counts and lm loss as the first run did.
JOB = r"""
import json, sys
import torch
import moe_telemetry
from tiny_moe import TinyMoEModel, make_batches, train_step
addr, run_key, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
args = json.loads(sys.argv[5])
s = moe_telemetry.init(collector=addr, run_key=run_key, args=args, rank=0, world_size=1,
                       backoff_initial=0.05, backoff_max=0.5, install_excepthook=False, rpc_timeout=5.0)
model = TinyMoEModel()
s.attach(model)
opt = torch.optim.SGD(model.parameters(), lr=0.0)
batches = make_batches(2 * last, seed=7)
for it in range(first, last + 1):
    with s.guard_step(it):
        loss = train_step(model, opt, batches[(it - 1) * 2: it * 2])
    s.step(it, lm_loss=round(loss, 6))
closed = s.close(60)
print("RESULT " + json.dumps({"closed": closed, "stats": s.stats(), "instance": s._sender.client_instance}))
"""


def run_job(c, run_key, first, last):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([PKG, HERE])}
    r = subprocess.run([sys.executable, "-c", JOB, c.address, run_key, str(first), str(last), json.dumps(ARGS)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    line = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
    assert line, (r.stdout[-2000:], r.stderr[-3000:])
    return json.loads(line[-1][len("RESULT "):]), r.stderr


def expected_job_counts(steps):
    """Per (step, layer): the frozen model's routing-map sums over the step's two micro-batches."""
    model = TinyMoEModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    batches = make_batches(2 * steps, seed=7)
    out = {}
    for it in range(1, steps + 1):
        for l in model.layers:
            l.router.seen.clear()
        train_step(model, opt, batches[(it - 1) * 2: it * 2])
        for l in model.layers:
            out[(it, l.layer_number)] = torch.stack(l.router.seen).sum(0).tolist()
    return out


def test_restarted_job_resending_31_to_50_has_every_step_1_to_80_stored(collector):
    rk = key()
    first, err1 = run_job(collector, rk, 1, 50)
    second, err2 = run_job(collector, rk, 31, 80)
    assert first["instance"] != second["instance"]
    # close() returned OK in both processes, i.e. all their batches were acknowledged durable
    assert first["closed"] is True and first["stats"]["unacked"] == 0, first
    assert second["closed"] is True and second["stats"]["unacked"] == 0, second
    assert first["stats"]["batches_acked"] == 50 and first["stats"]["durable_seq"] == 50
    # the restarted process starts again at seq 1: none of its 50 batches is covered by the predecessor's 50
    assert second["stats"]["batches_acked"] == 50 and second["stats"]["durable_seq"] == 50, second
    assert second["stats"].get("durable_seq_beyond_sent", 0) == 0
    assert first["stats"].get("batches_dropped", 0) == 0 and second["stats"].get("batches_dropped", 0) == 0

    rows = collector.dump(rk)
    layers = [r for r in rows if r["kind"] == "layer"]
    keys = [(r["step"], r["layer"], r["rank"]) for r in layers]
    assert len(keys) == len(set(keys)), "a (step, layer, rank) stored twice"
    assert sorted({k[0] for k in keys}) == list(range(1, 81))
    exp = expected_job_counts(80)
    for r in layers:
        assert r["tokensPerExpert"] == exp[(r["step"], r["layer"])], (r["step"], r["layer"])
        assert r["tokens"] == 64 and r["microBatches"] == 2
    steps = [r for r in rows if r["kind"] == "step"]
    assert sorted(r["step"] for r in steps) == list(range(1, 81))
    # The overlap's counts and lm loss are identical; iteration time is not (it is wall time), so the step
    # samples 31-50 of the restarted job are conflicting rewrites (the first job's are kept): exactly one per
    # overlapping step; the identical layer reports are silent.
    assert second["stats"].get("records_conflicting", 0) == 20, second
    refusals = [l for l in err2.splitlines() if "conflicting rewrites" in l]
    assert refusals and all("steps[0]" in l and "step sample" in l and "layers[" not in l for l in refusals), refusals
    assert first["stats"].get("records_conflicting", 0) == 0 and first["stats"].get("records_rejected", 0) == 0
