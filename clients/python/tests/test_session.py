import logging
import socket
import sys
import types
import threading
import time
import uuid

import pytest
import torch

import moe_telemetry
from fake_collector import Server, Store, free_port, wait_until
from tiny_moe import TinyMoEModel, expected_counts_per_step, make_batches, train_step

FAST = dict(backoff_initial=0.02, backoff_max=0.2, install_excepthook=False, close_timeout=5.0, rpc_timeout=2.0)


def new_key():
    return "t-" + uuid.uuid4().hex[:10]


def make_session(addr, key=None, **kw):
    opts = dict(FAST)
    opts.update(kw)
    return moe_telemetry.init(collector=addr, run_key=key or new_key(), rank=opts.pop("rank", 0),
                              args=opts.pop("args", {"num_experts": 4, "moe_router_topk": 2, "num_layers": 2}),
                              coords=opts.pop("coords", {"tp": 0, "ep": 1, "pp": 0}), world_size=2, **opts)


@pytest.fixture
def server():
    s = Server().start()
    yield s
    s.stop()


def run_training(session, model, steps=3, micro=2, seed=1, lr=0.05):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    batches = make_batches(steps * micro, seed=seed)
    losses = []
    for it in range(1, steps + 1):
        with session.guard_step(it):
            losses.append(train_step(model, opt, batches[(it - 1) * micro: it * micro]))
        session.step(it, lm_loss=losses[-1])
    return losses


def test_register_hello_and_sequence_numbers(server):
    s = make_session(server.address)
    try:
        model = TinyMoEModel(session=s)
        assert s.attach(model) == 2
        run_training(s, model, steps=5)
        assert s.flush(10)
        st = server.store
        arr = [a for a in st.arrivals if a[1] == s.run_key]
        assert [a[3] for a in arr] == [1, 2, 3, 4, 5]
        assert all(a[4] == 0 for a in arr)
        reg = st.runs[s.run_key]
        assert reg.config.num_experts == 4 and reg.config.moe_router_topk == 2 and reg.world_size == 2
        h = [h for h in st.hellos if h.run_key == s.run_key][0]
        assert h.rank == 0 and h.coords.ep == 1 and h.client.startswith("moe-telemetry-python/")
        # counts equal the model's own routing maps summed per step
        exp = expected_counts_per_step(model, [2] * 5)
        recs = st.layer_records(s.run_key)
        for layer in (1, 2):
            for it in range(1, 6):
                r = recs[(it, layer)]
                assert list(r.tokens_per_expert) == exp[layer][it - 1]
                assert r.micro_batches == 2
                assert r.tokens == 2 * 4 * 8  # micro-batches x batch x seq
                assert sum(r.tokens_per_expert) == r.tokens * 2  # top-2
                assert list(r.received_per_local_expert) == exp[layer][it - 1]
                assert r.HasField("load_balancing_loss") and 0.9 <= r.load_balancing_loss <= 2.0
        steps = st.step_records(s.run_key)
        assert sorted(steps) == [1, 2, 3, 4, 5]
        assert steps[2].HasField("iteration_time_ms") and not steps[1].HasField("iteration_time_ms")
        assert steps[3].HasField("lm_loss")
        assert s.stats()["batches_acked"] == 5
    finally:
        s.close(5)
    ev = [e for e in server.store.events if e.run_key == s.run_key]
    assert [e.kind for e in ev] == [moe_telemetry.session.pb.RunEvent.FINISHED]


def test_restarted_process_is_a_new_instance_whose_batches_are_all_sent_and_stored(server):
    """A restarted job (new process, same run key and rank) starts at seq 1 with its own client_instance:
    the predecessor's durable seqs cover none of its batches, so every one is sent and stored."""
    key = new_key()
    s1 = make_session(server.address, key=key)
    for it in range(1, 4):
        s1.step(it, lm_loss=float(it))
    assert s1.flush(10)
    s1.close(5)
    s2 = make_session(server.address, key=key)
    for it in range(4, 6):
        s2.step(it, lm_loss=float(it))
    assert s2.flush(10)
    s2.close(5)
    i1, i2 = s1._sender.client_instance, s2._sender.client_instance
    assert len(i1) == 32 and len(i2) == 32 and i1 != i2
    hellos = [h.client_instance for h in server.store.hellos if h.run_key == key]
    assert hellos == [i1, i2]
    arr = [(a[5], a[3]) for a in server.store.arrivals if a[1] == key]
    assert arr == [(i1, 1), (i1, 2), (i1, 3), (i2, 1), (i2, 2)]
    steps = server.store.step_records(key)
    assert sorted(steps) == [1, 2, 3, 4, 5] and steps[5].lm_loss == 5.0
    assert s2.stats()["batches_acked"] == 2 and s2.stats()["durable_seq"] == 2


def test_welcome_durable_seq_beyond_anything_sent_does_not_make_later_batches_durable():
    """A Welcome claiming seq 1000 is durable before this process sent anything: a protocol inconsistency.
    It is logged; numbering still starts at 1 and the batches sent afterwards wait for a real Ack."""
    store = Store()
    srv = Server(store, ack=False, welcome_durable=1000).start()
    try:
        s = make_session(srv.address)
        try:
            assert wait_until(lambda: s.connected)
            for it in range(1, 4):
                s.step(it)
            assert wait_until(lambda: len([a for a in store.arrivals if a[1] == s.run_key]) == 3)
            time.sleep(0.2)
            assert [a[3] for a in store.arrivals if a[1] == s.run_key] == [1, 2, 3]
            st = s.stats()
            assert st.get("batches_acked", 0) == 0 and st["unacked"] == 3, st
            assert st["durable_seq"] == 0
            assert st.get("durable_seq_beyond_sent", 0) >= 1
            assert not s.flush(0.3)
        finally:
            s.close(0.2)
    finally:
        srv.stop()


def test_conflicts_reply_is_counted_and_logged_like_a_rejection():
    from test_auth_tls import Records  # noqa: the logger-record collector

    store = Store()
    srv = Server(store, conflicting_seqs={2}).start()
    h = Records()
    logging.getLogger("moe_telemetry").addHandler(h)
    try:
        s = make_session(srv.address)
        try:
            for it in range(1, 4):
                s.step(it)
            assert s.flush(10)
            assert wait_until(lambda: s.stats().get("records_conflicting", 0) == 1)
            assert s.stats()["batches_acked"] == 3
        finally:
            s.close(2)
        msgs = [r.getMessage() for r in h.records]
        assert any("refused as conflicting rewrites 1 record(s) of batch 2" in m and "already stored" in m for m in msgs), msgs
    finally:
        logging.getLogger("moe_telemetry").removeHandler(h)
        srv.stop()


def test_resend_after_reconnect_nothing_lost():
    port = free_port()
    store = Store()
    srv = Server(store, port=port, ack_limit=2).start()  # stores everything, acks only up to seq 2
    s = make_session(srv.address)
    try:
        for it in range(1, 6):
            s.step(it)
        assert wait_until(lambda: len(store.arrivals) == 5)
        assert wait_until(lambda: s.stats().get("batches_acked", 0) == 2)
        assert s.stats()["unacked"] == 3
        # the collector dies before 3..5 are durable; a fresh one starts on the same port
        srv.stop()
        with store.lock:  # what was not durable is lost with the first server
            for seq in (3, 4, 5):
                store.batches[(s.run_key, 0)].pop((s._sender.client_instance, seq))
        for it in range(6, 8):
            s.step(it)  # produced while the collector is down
        srv2 = srv.start(ack_limit=None)  # same store ("database") and port, server_id 1
        try:
            assert s.flush(15), s.stats()
            second = [a[3] for a in store.arrivals if a[0] == 1]
            assert second[:3] == [3, 4, 5], second  # resent in order, 1..2 skipped (Welcome.durable_seq=2)
            assert sorted(set(second)) == [3, 4, 5, 6, 7]
            assert sorted(store.step_records(s.run_key)) == list(range(1, 8))
            assert store.durable[(s.run_key, 0, s._sender.client_instance)] == 7
            assert s.stats()["batches_resent"] >= 3
        finally:
            s.close(5)
            srv2.stop()
    finally:
        srv.stop()


def test_buffer_full_drops_oldest_and_reports_count():
    port = free_port()  # nobody listens yet
    s = make_session("127.0.0.1:%d" % port, max_buffer=4, max_inflight=2)
    try:
        for it in range(1, 11):
            s.step(it)
        st = s.stats()
        assert st["batches_dropped"] == 6 and st["unacked"] == 4
        srv = Server(port=port).start()
        try:
            assert s.flush(15), s.stats()
            arr = [a for a in srv.store.arrivals if a[1] == s.run_key]
            assert [a[3] for a in arr] == [1, 2, 3, 4]
            assert arr[0][4] == 6 and all(a[4] == 0 for a in arr[1:])
            assert sorted(srv.store.step_records(s.run_key)) == [7, 8, 9, 10]  # the newest survive
        finally:
            s.close(5)
            srv.stop()
    finally:
        s.close(1)


def test_oom_last_gasp_arrives_and_exception_reraises(server):
    s = make_session(server.address)
    try:
        model = TinyMoEModel(session=s)
        s.attach(model)
        run_training(s, model, steps=1)
        model.layers[1].router.raise_oom = torch.cuda.OutOfMemoryError(
            "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.35 GiB total capacity)")
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        with pytest.raises(torch.cuda.OutOfMemoryError):
            with s.guard_step(2):
                train_step(model, opt, make_batches(1))
        ooms = [o for o in server.store.ooms if o.run_key == s.run_key]
        assert len(ooms) == 1  # synchronous: already there when the exception propagates
        o = ooms[0]
        assert o.step == 2 and o.phase == "forward" and o.layer == 2 and o.rank == 0
        assert o.requested_bytes == 2 * 2**30 and "out of memory" in o.message
    finally:
        s.close(5)


def test_oom_before_the_run_is_registered_registers_first(server):
    """An OOM in the first step can beat the background sender's RegisterRun: the last gasp registers first."""
    s = make_session(server.address)
    try:
        model = TinyMoEModel(session=s)
        s.attach(model)
        run_training(s, model, steps=1)
        with server.store.lock:
            server.store.runs.pop(s.run_key, None)  # as if RegisterRun had not reached this collector yet
            server.store.oom_needs_registered_run = True
            calls = server.store.register_calls
        model.layers[1].router.raise_oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        with pytest.raises(torch.cuda.OutOfMemoryError):
            with s.guard_step(2):
                train_step(model, opt, make_batches(1))
        assert [o.step for o in server.store.ooms if o.run_key == s.run_key] == [2]
        assert server.store.register_calls > calls
        assert s.stats()["oom_reported"] == 1
    finally:
        server.store.oom_needs_registered_run = False
        s.close(5)


def test_oom_in_backward_via_wrap(server):
    s = make_session(server.address)
    try:
        class Boom(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone()

            @staticmethod
            def backward(ctx, g):
                raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB")

        @s.wrap
        def step_fn(iteration=None):
            x = torch.ones(3, requires_grad=True)
            Boom.apply(x).sum().backward()

        with pytest.raises(RuntimeError, match="out of memory"):
            step_fn(iteration=7)
        o = [o for o in server.store.ooms if o.run_key == s.run_key][0]
        assert o.step == 7 and o.phase == "backward" and o.requested_bytes == 20 * 2**20
    finally:
        s.close(5)


def test_oom_reraises_quickly_when_collector_down():
    s = make_session("127.0.0.1:%d" % free_port(), oom_deadline=1.0)
    try:
        t0 = time.monotonic()
        with pytest.raises(RuntimeError):
            with s.guard_step(1):
                raise RuntimeError("CUDA out of memory.")
        assert time.monotonic() - t0 < 2.0
        assert s.stats()["oom_report_failed"] == 1
    finally:
        s.close(0.5)


def test_non_oom_exception_not_reported(server):
    s = make_session(server.address)
    try:
        with pytest.raises(ValueError):
            with s.guard_step(1):
                raise ValueError("bad")
        assert not [o for o in server.store.ooms if o.run_key == s.run_key]
    finally:
        s.close(5)


@pytest.mark.parametrize("mode", ["reentrant", "non_reentrant"])
def test_recomputation_does_not_double_count(server, mode):
    s_plain = make_session(server.address)
    s_ckpt = make_session(server.address)
    try:
        plain = TinyMoEModel(seed=3)
        ck = TinyMoEModel(seed=3, checkpoint=mode)
        ck.load_state_dict(plain.state_dict())
        s_plain.attach(plain)
        s_ckpt.attach(ck)
        run_training(s_plain, plain, steps=3, micro=3)
        run_training(s_ckpt, ck, steps=3, micro=3)
        assert s_plain.flush(10) and s_ckpt.flush(10)
        a = server.store.layer_records(s_plain.run_key)
        b = server.store.layer_records(s_ckpt.run_key)
        assert sorted(a) == sorted(b) and len(a) == 6
        for k in a:
            assert b[k].micro_batches == 3 == a[k].micro_batches
            assert list(b[k].tokens_per_expert) == list(a[k].tokens_per_expert)
            assert list(b[k].received_per_local_expert) == list(a[k].received_per_local_expert)
            assert b[k].tokens == a[k].tokens
        exp = expected_counts_per_step(plain, [3] * 3)
        for (it, layer), r in a.items():
            assert list(r.tokens_per_expert) == exp[layer][it - 1]
        st = s_ckpt.stats()
        if mode == "non_reentrant":
            assert st.get("recompute_skipped", 0) == 2 * 3 * 3
        else:
            assert st.get("recompute_counted", 0) == 2 * 3 * 3
    finally:
        s_plain.close(5)
        s_ckpt.close(5)


def test_eval_and_no_grad_forwards_not_counted(server):
    s = make_session(server.address)
    try:
        model = TinyMoEModel()
        s.attach(model)
        tok = make_batches(1)[0][:, :-1]
        model.eval()
        model(tok)
        model.train()
        with torch.no_grad():
            model(tok)
        s.step(1)
        assert s.flush(10)
        assert server.store.layer_records(s.run_key) == {}
        assert sorted(server.store.step_records(s.run_key)) == [1]
    finally:
        s.close(5)


def test_capacity_factor_reports_before_drop_and_dropped(server):
    s = make_session(server.address)
    try:
        model = TinyMoEModel(capacity_factor=1.0, num_experts=4, topk=2)
        s.attach(model)
        run_training(s, model, steps=2, micro=2)
        assert s.flush(10)
        recs = server.store.layer_records(s.run_key)
        for r in recs.values():
            assert len(r.tokens_per_expert_before_drop) == 4
            assert sum(r.tokens_per_expert_before_drop) == r.tokens * 2
            assert r.HasField("dropped")
            assert r.dropped == sum(r.tokens_per_expert_before_drop) - sum(r.tokens_per_expert)
            # per micro-batch C = ceil(((32 * 2) / 4) * 1.0) = 16; two micro-batches per step
            assert max(r.tokens_per_expert) <= 2 * 16
    finally:
        s.close(5)


def test_never_blocks_when_collector_down():
    s = make_session("127.0.0.1:%d" % free_port())
    try:
        model = TinyMoEModel()
        s.attach(model)
        t0 = time.monotonic()
        run_training(s, model, steps=3)
        worst = 0.0
        for it in range(4, 504):
            t = time.monotonic()
            s.step(it)
            worst = max(worst, time.monotonic() - t)
        assert worst < 0.05, worst
        assert time.monotonic() - t0 < 10
        assert s.stats()["unacked"] == 503 and s.stats().get("batches_dropped", 0) == 0
    finally:
        t = time.monotonic()
        s.close(0.5)
        assert time.monotonic() - t < 5


def test_never_blocks_when_collector_hangs():
    # a TCP listener that never speaks HTTP/2
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    conns = []
    stop = threading.Event()

    def accept():
        ls.settimeout(0.1)
        while not stop.is_set():
            try:
                c, _ = ls.accept()
                conns.append(c)
            except OSError:
                pass

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    s = make_session("127.0.0.1:%d" % ls.getsockname()[1], rpc_timeout=1.0)
    try:
        worst = 0.0
        for it in range(1, 201):
            t = time.monotonic()
            s.step(it)
            worst = max(worst, time.monotonic() - t)
        assert worst < 0.05
        t = time.monotonic()
        with pytest.raises(RuntimeError):
            with s.guard_step(201):
                raise RuntimeError("out of memory")
        assert time.monotonic() - t < 3.5
    finally:
        t = time.monotonic()
        s.close(0.5)
        assert time.monotonic() - t < 5
        stop.set()
        th.join()
        for c in conns:
            c.close()
        ls.close()


def test_multiple_collectors_failover():
    dead = "127.0.0.1:%d" % free_port()
    srv = Server().start()
    try:
        s = make_session(dead + "," + srv.address)
        for it in range(1, 4):
            s.step(it)
        assert s.flush(10)
        assert sorted(srv.store.step_records(s.run_key)) == [1, 2, 3]
        s.close(5)
    finally:
        srv.stop()


def test_env_overrides(monkeypatch, server):
    monkeypatch.setenv("MOE_TELEMETRY_DISABLED", "1")
    s = moe_telemetry.init(collector=server.address, run_key="x")
    assert isinstance(s, moe_telemetry.NullSession)
    with s.guard_step(1):
        pass
    s.step(1)
    monkeypatch.delenv("MOE_TELEMETRY_DISABLED")
    key = new_key()
    monkeypatch.setenv("MOE_TELEMETRY_COLLECTOR", server.address)
    monkeypatch.setenv("MOE_TELEMETRY_RUN_KEY", key)
    s = moe_telemetry.init(collector="127.0.0.1:1", run_key="ignored", **FAST)
    try:
        assert s.run_key == key and s.collectors == [server.address]
        s.step(1)
        assert s.flush(10)
    finally:
        s.close(5)


def test_config_mapping():
    import argparse

    from moe_telemetry.config import build_run_config

    a = argparse.Namespace(num_experts=64, moe_router_topk=6, moe_layer_freq=[0, 1, 1], moe_aux_loss_coeff=[1e-2, 1e-3],
                           moe_router_load_balancing_type=["aux_loss", "seq_aux_loss"], expert_tensor_parallel_size=None,
                           fp8="hybrid", bf16=True, sequence_parallel=True, recompute_modules=["moe", "layernorm"],
                           lr=3e-4, wandb_api_key="secret", hf_token="secret", data_path=["a", "b"], seq_length=4096)
    c = build_run_config(a)
    assert c.num_experts == 64 and c.moe_router_topk == 6 and c.seq_length == 4096
    assert c.moe_layer_freq == "[0, 1, 1]"
    assert c.moe_router_load_balancing_type == "aux_loss,seq_aux_loss"
    assert c.moe_aux_loss_coeff == 1e-2 and c.extra["moe_aux_loss_coeff"] == "[0.01, 0.001]"
    assert not c.HasField("expert_tensor_parallel_size")
    assert c.fp8 == "hybrid" and c.bf16 and c.sequence_parallel
    assert list(c.recompute_modules) == ["moe", "layernorm"]
    assert c.extra["lr"] == "0.0003" and c.extra["data_path"] == "['a', 'b']"
    assert "wandb_api_key" not in c.extra and "hf_token" not in c.extra
    d = build_run_config({"--num-experts": 8, "moe-expert-capacity-factor": 1.0})
    assert d.num_experts == 8 and d.moe_expert_capacity_factor == 1.0


def test_old_megatron_indices_output_counted(server):
    class OldRouter(torch.nn.Module):  # core_r0.8 style: (scores, indices [tokens, topk])
        def __init__(self):
            super().__init__()
            self.layer_number = 5
            self.topk = 2
            self.config = type("C", (), {"num_moe_experts": 4})()

        def forward(self, x):
            return torch.ones(x.shape[0], 2), torch.tensor([[0, 1], [1, 3], [3, 0]])

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.router = OldRouter()

    s = make_session(server.address)
    try:
        w = Wrap()
        assert s.attach(w) == 1
        w.router(torch.zeros(3, 2))
        s.step(1)
        assert s.flush(10)
        r = server.store.layer_records(s.run_key)[(1, 5)]
        assert list(r.tokens_per_expert) == [2, 2, 0, 2] and r.tokens == 3
    finally:
        s.close(5)


def test_duck_typed_router_without_router_in_name(server):
    class Gate(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer_number = 3

        def forward(self, x):
            m = torch.zeros(x.shape[0], 4, dtype=torch.bool)
            m[:, 0] = True
            return x, m

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer_number = 3
            self.gate = Gate()

        def forward(self, x):
            return self.gate(x)[0] * 2  # not a 2-tuple: probed and unhooked

    s = make_session(server.address)
    try:
        b = Block()
        s.attach(b)
        b(torch.zeros(5, 2))
        b(torch.zeros(5, 2))
        s.step(1)
        assert s.flush(10)
        r = server.store.layer_records(s.run_key)[(1, 3)]
        assert list(r.tokens_per_expert) == [10, 0, 0, 0] and r.micro_batches == 2
    finally:
        s.close(5)


def test_hook_errors_never_reach_training(server):
    s = make_session(server.address)
    try:
        class BadRouter(torch.nn.Module):
            layer_number = 1

            def forward(self, x):
                return x, torch.zeros(2, 2, 2, 2, dtype=torch.bool)

        r = BadRouter()
        s.attach(r, routers=[r])
        r(torch.zeros(1))
        s.step(1)
        assert s.flush(10)
    finally:
        s.close(5)


def test_crash_event_via_excepthook(server):
    import sys

    s = make_session(server.address, install_excepthook=True)
    prev_inner = None
    try:
        try:
            raise KeyError("boom")
        except KeyError:
            et, ev, tb = sys.exc_info()
        orig_stderr = sys.stderr
        import io

        sys.stderr = io.StringIO()
        try:
            sys.excepthook(et, ev, tb)
        finally:
            sys.stderr = orig_stderr
        evs = [e for e in server.store.events if e.run_key == s.run_key]
        assert evs and evs[0].kind == moe_telemetry.session.pb.RunEvent.CRASH and "KeyError" in evs[0].message
    finally:
        s.close(5)
        sys.excepthook = sys.__excepthook__
    evs = [e for e in server.store.events if e.run_key == s.run_key]
    assert len(evs) == 1  # no FINISHED after a crash


class _StandInTracker:
    """Megatron-Core 0.20's MoEMetricsTracker, reduced to what the client relies on: record() sums per-layer
    values over micro-batches; report() all-reduces them in place (here: the DP average with a replica whose
    values are higher by 0.5 per micro-batch) and, like Megatron's, ends with self.clear() (clears_itself);
    clear() zeroes them. clears_itself=False: a report() that leaves clearing to its caller."""

    def __init__(self, num_layers, clears_itself=True):
        self.num_layers = num_layers
        self.metrics = {}
        self.reports = []
        self.clears_itself = clears_itself

    def record(self, name, value, layer_number, num_layers):
        e = self.metrics.get(name)
        if e is None:
            e = self.metrics[name] = types.SimpleNamespace(values=torch.zeros(num_layers))
        e.values[layer_number - 1] += value

    def report(self, loss_scale, iteration, **kw):
        m = round(1 / loss_scale)
        for e in self.metrics.values():
            e.values.copy_((e.values + (e.values + 0.5 * m)) / 2)  # the replica's sum is ours + 0.5 * m
        self.reports.append(iteration)
        if self.clears_itself:
            self.clear()
        return ""

    def clear(self):
        for e in self.metrics.values():
            e.values.zero_()


def _local_loss(name, iteration, layer):
    """What this rank's router records per micro-batch in the iteration Megatron logs as `iteration`."""
    return (1.0 + 0.01 * iteration + 0.1 * layer) if name == "load_balancing_loss" else (10.0 + iteration + layer)


@pytest.mark.parametrize("clears_itself", [True, False])
def test_losses_land_on_the_step_whose_training_log_reported_them(server, monkeypatch, clears_itself):
    """The README's integration (`mt.train_step = session.wrap(mt.train_step, iteration_offset=1)`) in
    Megatron's exact order: train_step -> iteration += 1 -> training_log -> tracker.report() (all-reduce, then
    its own clear()); after evaluation a bare clear(). Each step must carry the values reported for it (after
    the all-reduce), never the previous step's and never the rank's unreduced values; step 1 and the step
    after an evaluation included."""
    tracker = _StandInTracker(num_layers=2, clears_itself=clears_itself)
    pkgs = ["megatron", "megatron.core", "megatron.core.transformer", "megatron.core.transformer.moe"]
    mods = {n: types.ModuleType(n) for n in pkgs + ["megatron.core.transformer.moe.moe_logging"]}
    mods["megatron.core.transformer.moe.moe_logging"].get_moe_metrics_tracker = lambda: tracker
    mods["megatron.core.transformer.moe"].moe_logging = mods["megatron.core.transformer.moe.moe_logging"]
    for n, m in mods.items():
        monkeypatch.setitem(sys.modules, n, m)

    micro = 2
    model = TinyMoEModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = make_batches(5 * micro, seed=3)

    def mg_train_step(forward_step_func, data_iterator, model, optimizer, opt_param_scheduler, config,
                      forward_backward_func, iteration=None):
        logged = iteration + 1  # the number training_log will print for this iteration
        lm = train_step(model, optimizer, batches[iteration * micro:(iteration + 1) * micro])
        for _ in range(micro):
            for layer in (1, 2):
                for name in ("load_balancing_loss", "z_loss"):
                    tracker.record(name, torch.tensor(_local_loss(name, logged, layer)), layer, 2)
        return {"lm loss": torch.tensor(lm)}, False, False, 0, None, None, 0, None

    def training_log(iteration):
        tracker.report(loss_scale=1 / micro, iteration=iteration)
        if not clears_itself:
            tracker.clear()

    s = make_session(server.address)
    try:
        wrapped = s.wrap(mg_train_step, iteration_offset=1)
        iteration = 0
        while iteration < 5:
            wrapped(None, None, model, opt, None, None, None, iteration=iteration)
            iteration += 1
            training_log(iteration)
            if iteration == 3:  # evaluation: its forwards record into the tracker, then a bare clear()
                tracker.record("load_balancing_loss", torch.tensor(99.0), 1, 2)
                tracker.clear()
        assert tracker.reports == [1, 2, 3, 4, 5]
        assert s.flush(10)
        recs = server.store.layer_records(s.run_key)
        assert sorted(recs) == [(st, l) for st in range(1, 6) for l in (1, 2)]
        for st in range(1, 6):
            for layer in (1, 2):
                r = recs[(st, layer)]
                for name in ("load_balancing_loss", "z_loss"):
                    # reported = (our sum + replica's sum) / 2 over `micro` micro-batches, logged x 1/micro
                    want = _local_loss(name, st, layer) + 0.25
                    assert r.HasField(name) and abs(getattr(r, name) - want) < 1e-4, (st, layer, name, getattr(r, name), want)
        assert s.stats().get("steps_without_tracker_report", 0) == 0
    finally:
        s.close(5)


@pytest.mark.parametrize("clears_itself", [True, False])
def test_training_log_before_step_uses_that_report(server, monkeypatch, clears_itself):
    """A hand-written loop that calls training_log (report + clear) before session.step(): same values."""
    tracker = _StandInTracker(num_layers=2, clears_itself=clears_itself)
    mods = {n: types.ModuleType(n) for n in ["megatron", "megatron.core", "megatron.core.transformer",
                                             "megatron.core.transformer.moe", "megatron.core.transformer.moe.moe_logging"]}
    mods["megatron.core.transformer.moe.moe_logging"].get_moe_metrics_tracker = lambda: tracker
    mods["megatron.core.transformer.moe"].moe_logging = mods["megatron.core.transformer.moe.moe_logging"]
    for n, m in mods.items():
        monkeypatch.setitem(sys.modules, n, m)
    model = TinyMoEModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    batches = make_batches(6, seed=4)
    s = make_session(server.address)
    try:
        s.attach(model)
        for it in range(1, 4):
            train_step(model, opt, batches[(it - 1) * 2:it * 2])
            for _ in range(2):
                for layer in (1, 2):
                    tracker.record("z_loss", torch.tensor(_local_loss("z_loss", it, layer)), layer, 2)
            tracker.report(loss_scale=1 / 2, iteration=it)
            tracker.clear()
            s.step(it)
        assert s.flush(10)
        recs = server.store.layer_records(s.run_key)
        for it in range(1, 4):
            for layer in (1, 2):
                assert abs(recs[(it, layer)].z_loss - (_local_loss("z_loss", it, layer) + 0.25)) < 1e-4
    finally:
        s.close(5)
