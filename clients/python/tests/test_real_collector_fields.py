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


def scalar_series(c, run_id):
    """The dashboard's run-level series (lib/web/data/queries.ts getScalarSeries, behind
    GET /api/runs/{id}/scalars), read from the collector's database without starting Next.js."""
    r = subprocess.run([NODE, os.path.join(HERE, "_scalars.mjs"), REPO, run_id], cwd=REPO, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "DATABASE_URL": c.db})
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


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
    # The overlap's counts and lm loss are identical, so its layer reports are silent no-ops; its step samples
    # re-measure time (a restarted job's new measurements), and the first job's are kept without complaint.
    assert second["stats"].get("records_conflicting", 0) == 0, second
    assert not [l for l in err2.splitlines() if "conflicting rewrites" in l]
    assert first["stats"].get("records_conflicting", 0) == 0 and first["stats"].get("records_rejected", 0) == 0


# ---------------------------------------------------------------------------------------------------------
# 2. conflicting rewrites

def test_conflicting_rewrite_is_refused_counted_logged_and_the_first_write_kept(collector):
    rk = key()
    model = TinyMoEModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # frozen: the same batch routes the same way again
    batches = make_batches(8, seed=7)
    other = make_batches(2, seed=8)
    a = moe_telemetry.init(collector=collector.address, run_key=rk, args=ARGS, rank=0, world_size=1, **FAST)
    a.attach(model)
    for it in range(1, 5):
        a.step(it, lm_loss=train_step(model, opt, batches[(it - 1) * 2: it * 2]))
    assert a.close(30) is True
    assert a.stats().get("records_conflicting", 0) == 0
    a.detach()
    first = {(r["step"], r["layer"]): r for r in collector.dump(rk) if r["kind"] == "layer"}

    h = Records()
    logging.getLogger("moe_telemetry").addHandler(h)
    try:
        # Another instance of rank 0 (a second session object stands for a restarted process): step 3 again
        # with the same batch (identical layer reports), step 4 with another batch (different counts).
        b = moe_telemetry.init(collector=collector.address, run_key=rk, args=ARGS, rank=0, world_size=1, **FAST)
        b.attach(model)
        b.step(2)  # nothing routed: a step sample only
        for it, mbs in ((3, batches[4:6]), (4, other)):
            for l in model.layers:
                l.router.seen.clear()
            b.step(it, lm_loss=train_step(model, opt, mbs))
            if it == 4:
                sent4 = {l.layer_number: torch.stack(l.router.seen).sum(0).tolist() for l in model.layers}
        assert b.close(30) is True  # refused records are not an undelivered batch
        st = b.stats()
    finally:
        logging.getLogger("moe_telemetry").removeHandler(h)
    assert all(sent4[l] != first[(4, l)]["tokensPerExpert"] for l in (1, 2)), "test needs different counts at step 4"
    assert b._sender.client_instance != a._sender.client_instance
    # Refused per record: both layer reports of step 4. The identical layer reports of step 3 are not refused,
    # nor are the step samples of 2-4 (new measurements of time and memory; the first write is kept).
    assert st.get("records_conflicting", 0) == 2, st
    assert st.get("records_rejected", 0) == 0 and st["batches_acked"] == 3 and st["unacked"] == 0
    msgs = [r.getMessage() for r in h.records if "conflicting rewrites" in r.getMessage()]
    layer_msgs = [m for m in msgs if "layers[" in m]
    assert len(layer_msgs) == 1, msgs
    m = layer_msgs[0]
    assert "ALREADY_EXISTS" in m and "2 record(s) of batch 3" in m, m
    assert ("(run %s, step 4, layer 1, rank 0)" % rk) in m and "counts" in m and "the first write is kept" in m, m
    assert not any("step 3, layer" in x or "step 2, layer" in x for x in msgs), msgs
    rows = collector.dump(rk)
    got = [(r["step"], r["layer"], r["rank"]) for r in rows if r["kind"] == "layer"]
    assert sorted(got) == [(s, l, 0) for s in range(1, 5) for l in (1, 2)]  # nothing stored twice
    now = {(r["step"], r["layer"]): r for r in rows if r["kind"] == "layer"}
    assert now == first  # the first write of every key is what stays, step 4 included
    steps = {r["step"]: r for r in rows if r["kind"] == "step"}
    assert sorted(steps) == [1, 2, 3, 4] and steps[2]["lmLoss"] is not None  # a's step 2, not b's empty one


# ---------------------------------------------------------------------------------------------------------
# 3. losses in Megatron's exact loop order

@dataclass
class _MetricEntry:
    values: torch.Tensor
    reduce_group: object = None
    avg_group: object = None
    needs_dp_avg: bool = True


class MegatronLikeTracker:
    """megatron.core.transformer.moe.moe_logging.MoEMetricsTracker (core 0.20, main as of 2026-08), reduced to
    its semantics: record() sums per-layer values over micro-batches; report() all-reduces them in place
    (here: the DP average with a replica whose per-layer sums are ours + 0.5 per micro-batch), logs
    values * loss_scale per layer, and ENDS BY CALLING self.clear() itself; training_log does not call clear()
    after it. The loop calls a bare clear() after evaluation."""

    def __init__(self):
        self._metrics = {}
        self.logged = {}  # iteration -> {name: [per-layer value as training_log logged it]}

    @property
    def metrics(self):
        return self._metrics

    def record(self, name, value, layer_number, num_layers, reduce_group=None, avg_group=None, needs_dp_avg=True):
        if layer_number is None:
            return
        if name not in self._metrics:
            self._metrics[name] = _MetricEntry(values=torch.zeros(num_layers))
        e = self._metrics[name]
        e.values[layer_number - 1] += value.detach()
        e.reduce_group, e.avg_group, e.needs_dp_avg = reduce_group, avg_group, needs_dp_avg

    def report(self, loss_scale, iteration, writer=None, wandb_writer=None, per_layer_logging=False,
               force_initialize=False, track_names=None, num_layers=None, num_moe_layers=None, **kw):
        names = list(self._metrics) if track_names is None else list(track_names)
        if force_initialize:
            for n in names:
                self._metrics.setdefault(n, _MetricEntry(values=torch.zeros(num_layers)))
        m = round(1 / loss_scale)
        for n in names:  # _sync_metrics: in place
            v = self._metrics[n].values
            v.copy_((v + (v + 0.5 * m)) / 2)
        self.logged[iteration] = {n: (self._metrics[n].values.float() * loss_scale).tolist() for n in names}
        self.clear()
        return ""

    def clear(self):
        for e in self._metrics.values():
            e.values.zero_()


def _local_loss(name, iteration, layer):
    """What this rank's router records per micro-batch in the iteration Megatron logs as `iteration`."""
    return (1.0 + 0.01 * iteration + 0.1 * layer) if name == "load_balancing_loss" else (10.0 + iteration + layer)


@pytest.fixture
def fake_megatron(monkeypatch):
    tracker = MegatronLikeTracker()
    pkgs = ["megatron", "megatron.core", "megatron.core.transformer", "megatron.core.transformer.moe"]
    mods = {n: types.ModuleType(n) for n in pkgs + ["megatron.core.transformer.moe.moe_logging"]}
    mods["megatron.core.transformer.moe.moe_logging"].get_moe_metrics_tracker = lambda: tracker
    mods["megatron.core.transformer.moe"].moe_logging = mods["megatron.core.transformer.moe.moe_logging"]
    for n, m in mods.items():
        monkeypatch.setitem(sys.modules, n, m)
    return tracker


def test_losses_land_on_the_step_training_log_reported_in_megatrons_loop_order(collector, fake_megatron):
    tracker = fake_megatron
    rk = key()
    n_iters, eval_interval, names = 10, 4, ("load_balancing_loss", "z_loss")
    model = TinyMoEModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = make_batches(n_iters * MICRO, seed=3)

    def mg_train_step(forward_step_func, data_iterator, model, optimizer, opt_param_scheduler, config,
                      forward_backward_func, iteration=None):
        logged = iteration + 1  # the number training_log will print for this iteration
        lm = train_step(model, optimizer, batches[iteration * MICRO:(iteration + 1) * MICRO])
        for _ in range(MICRO):  # the routers' record() calls, one per micro-batch and MoE layer
            for layer in (1, 2):
                for name in names:
                    tracker.record(name, torch.tensor(_local_loss(name, logged, layer)), layer, 2)
        return {"lm loss": torch.tensor(lm)}, False, False, 0, None, None, 0, None

    def training_log(iteration):
        tracker.report(loss_scale=1 / MICRO, iteration=iteration, per_layer_logging=True, force_initialize=True,
                       track_names=list(names), num_layers=2, num_moe_layers=2)

    def evaluate():
        model.eval()
        with torch.no_grad():
            model(make_batches(1, seed=99)[0][:, :-1])  # eval forwards: the routers record nothing
        model.train()

    s = moe_telemetry.init(collector=collector.address, run_key=rk, args=ARGS, rank=0, world_size=1, **FAST)
    wrapped = s.wrap(mg_train_step, iteration_offset=1)
    iteration = 0
    while iteration < n_iters:  # megatron.training.training.train()
        wrapped(None, None, model, opt, None, None, None, iteration=iteration)
        iteration += 1
        training_log(iteration)
        if iteration % eval_interval == 0:
            evaluate()
            tracker.clear()
    assert sorted(tracker.logged) == list(range(1, n_iters + 1))
    assert s.close(30) is True
    st = s.stats()
    rows = collector.dump(rk)
    layers = {(r["step"], r["layer"]): r for r in rows if r["kind"] == "layer"}
    assert sorted(layers) == [(i, l) for i in range(1, n_iters + 1) for l in (1, 2)]
    wrong = []
    for i in range(1, n_iters + 1):
        for l in (1, 2):
            for name in names:
                want = tracker.logged[i][name][l - 1]  # what training_log logged for iteration i
                assert abs(want - (_local_loss(name, i, l) + 0.25)) < 1e-4  # reduced, not the local value
                got = layers[(i, l)]["losses"].get(name)
                if got is None or abs(got - want) > 1e-4:
                    wrong.append((i, l, name, got, want))
    assert not wrong, "stored loss != the value training_log reported for that iteration: %s; stats %s" % (wrong, st)
    assert st.get("steps_without_tracker_report", 0) == 0, st
    # the stored per-(step, layer) aggregates (what the dashboard's loss charts read) carry the same values
    agg = {(a["step"], a["layer"]): a for a in export_json(collector, rk)["aggregates"]}
    for i in range(1, n_iters + 1):
        for l in (1, 2):
            for name in names:
                assert abs(agg[(i, l)]["losses"][name] - tracker.logged[i][name][l - 1]) < 1e-4, (i, l, name)
    # the dashboard's run-level series (layer 0), what Megatron logs per iteration: the mean over MoE layers
    run_id = [r for r in rows if r["kind"] == "run"][0]["id"]
    got = {(x["name"], x["layer"]): x for x in scalar_series(collector, run_id)["series"]}
    for name in names:
        pts = {p["step"]: p["value"] for p in got[(name, 0)]["points"]}
        assert sorted(pts) == list(range(1, n_iters + 1)), (name, pts)
        for i in range(1, n_iters + 1):
            want = sum(tracker.logged[i][name]) / 2
            assert abs(pts[i] - want) < 1e-4, (name, i, pts[i], want)


# ---------------------------------------------------------------------------------------------------------
# 4. router (before-drop) vs dispatched counts

def test_capacity_factor_stores_both_counts_and_the_router_load_is_the_before_drop_one(collector):
    rk = key()
    args = dict(ARGS, moe_expert_capacity_factor=1.0)
    s = moe_telemetry.init(collector=collector.address, run_key=rk, args=args, rank=0, world_size=1, **FAST)
    model = TinyMoEModel(capacity_factor=1.0, seed=1)
    assert s.attach(model) == 2
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = make_batches(6 * MICRO, seed=5)
    for it in range(1, 7):
        s.step(it, lm_loss=train_step(model, opt, batches[(it - 1) * MICRO: it * MICRO]))
    assert s.close(30) is True
    layers = {(r["step"], r["layer"]): r for r in collector.dump(rk) if r["kind"] == "layer"}
    assert len(layers) == 12
    dispatched_by_model = {}
    for l in model.layers:  # the model's own record of what it dispatched (routing map after dropping)
        seen = l.router.seen
        for it in range(1, 7):
            dispatched_by_model[(it, l.layer_number)] = torch.stack(seen[(it - 1) * MICRO: it * MICRO]).sum(0).tolist()
    any_drop = 0
    for k, r in layers.items():
        before, disp = r["tokensPerExpertBeforeDrop"], r["tokensPerExpert"]
        assert disp == dispatched_by_model[k], k
        assert len(before) == 4 and sum(before) == r["tokens"] * 2, k  # every token's top-2 choice
        assert all(d <= b for d, b in zip(disp, before)), k
        assert max(disp) <= MICRO * 16  # capacity per micro-batch: ceil(32 * 2 / 4 * 1.0) = 16
        assert r["dropped"] == sum(before) - sum(disp), k
        any_drop += r["dropped"] > 0
    assert any_drop >= 3, "test needs steps that drop tokens"
    agg = {(a["step"], a["layer"]): a for a in export_json(collector, rk)["aggregates"]}
    assert sorted(agg) == sorted(layers)
    for k, a in agg.items():
        r = layers[k]
        assert a["load"] == r["tokensPerExpertBeforeDrop"], (k, a["load"], r)  # the router's choice
        assert abs(a["dropFraction"] - r["dropped"] / (r["tokens"] * 2)) < 1e-9, k
        if r["dropped"] > 0:
            assert a["load"] != r["tokensPerExpert"]
            # MaxVio of the stored aggregate is the before-drop one (dropping flattens the dispatched load)
            mean = sum(a["load"]) / 4
            assert abs(a["maxVio"] - (max(a["load"]) / mean - 1)) < 1e-6, (k, a["maxVio"])
