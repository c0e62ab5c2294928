#!/usr/bin/env python3
"""Client overhead on the training thread (CPU): router-hook cost per router call and step() cost per
step, per layer. Run: /usr/bin/python3 clients/python/bench_overhead.py [--layers 8,32] [--experts 8,64]

Method: a stand-in router returns precomputed (probs, routing_map) tensors of Megatron's shapes
([tokens, E] float / bool), so the measured difference between hooked and unhooked calls is the
client's own work (recompute check, routing_map.sum(0), in-place accumulate). On a GPU, sum(0) is an
asynchronous kernel launch; on this CPU-only machine it is real compute, reported separately
("sum(0) us") so the Python overhead can be read off. step() is timed on the caller side (it includes
the one device->host copy, protobuf building and the enqueue); the fake collector runs in a separate
process, the client's sender thread serializes and sends in the background of the same process.
"""
import argparse
import os
import statistics
import sys
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tests"))

import torch  # noqa: E402

import moe_telemetry  # noqa: E402


class BenchRouter(torch.nn.Module):
    def __init__(self, layer, tokens, experts, topk, requires_grad):
        super().__init__()
        self.layer_number = layer
        self.topk = topk
        self.num_experts = experts
        g = torch.Generator().manual_seed(layer)
        idx = torch.rand(tokens, experts, generator=g).topk(topk, dim=1).indices
        self.map = torch.zeros(tokens, experts, dtype=torch.bool).scatter(1, idx, True)
        self.probs = torch.rand(tokens, experts, requires_grad=requires_grad)

    def forward(self, x):
        p = self.probs * 1.0 if self.probs.requires_grad else self.probs
        return p, self.map


class Layers(torch.nn.Module):
    def __init__(self, n, tokens, experts, topk, requires_grad):
        super().__init__()
        self.routers = torch.nn.ModuleList(
            [BenchRouter(i + 1, tokens, experts, topk, requires_grad) for i in range(n)])


def time_calls(routers, reps):
    x = torch.zeros(1)
    t = time.perf_counter()
    for _ in range(reps):
        for r in routers:
            r(x)
    return (time.perf_counter() - t) / (reps * len(routers))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", default="8,32")
    ap.add_argument("--experts", default="8,64")
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--topk", type=int, default=2)
    ap.add_argument("--micro-batches", type=int, default=4)
    ap.add_argument("--steps", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(1)
    import subprocess

    from fake_collector import free_port

    port = free_port()
    srv_proc = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path[:0] = [%r, %r]; from fake_collector import Server; "
        "s = Server(port=%d).start(); print('ready', flush=True); time.sleep(3600)") % (
        HERE, os.path.join(HERE, "tests"), port)], stdout=subprocess.PIPE, text=True)
    srv_proc.stdout.readline()
    addr = "127.0.0.1:%d" % port
    print("torch %s, CPU, tokens/micro-batch %d, top-%d, %d micro-batches/step, graph_task_id API: %s"
          % (torch.__version__, a.tokens, a.topk, a.micro_batches,
             hasattr(torch._C, "_current_graph_task_id")))
    print("%6s %7s | %14s %14s %14s %10s | %12s %16s | %s" % (
        "layers", "experts", "call bare us", "call hooked us", "hook cost us", "sum(0) us", "step() us",
        "step()/layer us", "client us per layer per step (excl. sum(0))"))
    rows = []
    for L in [int(x) for x in a.layers.split(",")]:
        for E in [int(x) for x in a.experts.split(",")]:
            s = moe_telemetry.init(collector=addr, run_key="bench-%d-%d-%d" % (L, E, os.getpid()), rank=0,
                                   install_excepthook=False, oom_observer=False)
            m = Layers(L, a.tokens, E, a.topk, requires_grad=True)
            routers = list(m.routers)
            bare = min(time_calls(routers, 20) for _ in range(3))
            s.attach(m)
            s.step(0)
            hooked_samples = []
            step_samples = []
            for it in range(1, a.steps + 1):
                x = torch.zeros(1)
                t = time.perf_counter()
                for _ in range(a.micro_batches):
                    for r in routers:
                        r(x)
                hooked_samples.append((time.perf_counter() - t) / (a.micro_batches * L))
                t = time.perf_counter()
                s.step(it)
                step_samples.append(time.perf_counter() - t)
            hooked = statistics.median(hooked_samples)
            st = statistics.median(step_samples)
            hook_cost = max(0.0, hooked - bare)
            per_layer_step = hook_cost * a.micro_batches + st / L
            mp = routers[0].map
            sum_t = min(timeit.timeit(lambda: mp.sum(0), number=200) / 200 for _ in range(3))
            excl = max(0.0, hook_cost - sum_t) * a.micro_batches + st / L
            rows.append((L, E, bare, hooked, hook_cost, st, per_layer_step))
            print("%6d %7d | %14.1f %14.1f %14.1f %10.1f | %12.1f %16.1f | %.1f (%.1f)" % (
                L, E, bare * 1e6, hooked * 1e6, hook_cost * 1e6, sum_t * 1e6, st * 1e6, st / L * 1e6,
                per_layer_step * 1e6, excl * 1e6))
            s.flush(30)
            s.close(10)
    srv_proc.kill()


if __name__ == "__main__":
    main()
