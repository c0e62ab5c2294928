"""An in-process fake collector implementing the Telemetry service from the generated stubs."""
from __future__ import annotations

import socket
import threading
import time
from concurrent import futures

import grpc

from moe_telemetry._stubs import pb, pb_grpc


class Store:
    """State shared by successive FakeCollector instances (a 'database' that survives restarts)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.runs = {}
        self.register_calls = 0
        self.hellos = []
        # Sequence numbers belong to one client process (RankHello.client_instance), as in the collector.
        self.batches = {}      # (run_key, rank) -> {(client_instance, seq): Batch}, in arrival order
        self.durable = {}      # (run_key, rank, client_instance) -> highest durable seq
        self.arrivals = []     # (server_id, run_key, rank, seq, dropped_batches, client_instance) in arrival order
        self.ooms = []
        self.events = []

    def layer_records(self, run_key, rank=0):
        """{(step, layer): LayerReport} (idempotent: resends overwrite)."""
        out = {}
        with self.lock:
            for b in list(self.batches.get((run_key, rank), {}).values()):
                for l in b.layers:
                    out[(l.step, l.layer)] = l
        return out

    def step_records(self, run_key, rank=0):
        out = {}
        with self.lock:
            for b in list(self.batches.get((run_key, rank), {}).values()):
                for s in b.steps:
                    out[s.step] = s
        return out


class FakeCollector(pb_grpc.TelemetryServicer):
    def __init__(self, store: Store, server_id=0, ack_limit=None, ack=True, oom_delay=0.0, welcome_durable=None,
                 conflicting_seqs=()):
        self.store = store
        self.conflicting_seqs = set(conflicting_seqs)  # after the Ack, a `conflicts` reply refusing their step records
        self.welcome_durable = welcome_durable  # a Welcome.durable_seq to send whatever was stored (a confused collector)
        self.server_id = server_id
        self.ack_limit = ack_limit  # acks never go beyond this seq (simulates not-yet-durable data)
        self.ack = ack
        self.oom_delay = oom_delay

    def RegisterRun(self, request, context):
        with self.store.lock:
            self.store.register_calls += 1
            created = request.run_key not in self.store.runs
            if created:
                self.store.runs[request.run_key] = request
        return pb.RegisterRunResponse(run_id="run-" + request.run_key, created=created)

    def Stream(self, request_iterator, context):
        first = next(request_iterator)
        if first.WhichOneof("kind") != "hello":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "hello: RankHello must come first")
        h = first.hello
        key = (h.run_key, h.rank)
        dkey = (h.run_key, h.rank, h.client_instance)
        with self.store.lock:
            self.store.hellos.append(h)
            # per client instance; an anonymous (empty) instance always gets 0
            d = self.store.durable.get(dkey, 0) if h.client_instance else 0
            if self.welcome_durable is not None:
                d = self.welcome_durable
        yield pb.ServerMessage(welcome=pb.Welcome(run_id="run-" + h.run_key, durable_seq=d))
        for msg in request_iterator:
            b = msg.batch
            with self.store.lock:
                self.store.arrivals.append((self.server_id, h.run_key, h.rank, b.seq, b.dropped_batches, h.client_instance))
                self.store.batches.setdefault(key, {})[(h.client_instance, b.seq)] = b
            yield pb.ServerMessage(result=pb.BatchResult(seq=b.seq, accepted=len(b.layers) + len(b.steps)))
            if self.ack:
                with self.store.lock:
                    # durable = highest contiguous seq stored, capped by ack_limit
                    have = self.store.batches[key]
                    d = self.store.durable.get(dkey, 0)
                    while (h.client_instance, d + 1) in have and (self.ack_limit is None or d + 1 <= self.ack_limit):
                        d += 1
                    self.store.durable[dkey] = d
                yield pb.ServerMessage(ack=pb.Ack(durable_seq=d))
            if b.seq in self.conflicting_seqs:
                rej = [pb.Rejection(code="conflict", field="steps[0]", reason="step %d already stored with other values" % s.step)
                       for s in b.steps]
                yield pb.ServerMessage(conflicts=pb.BatchResult(seq=b.seq, accepted=0, rejected=rej))

    def Write(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in the fake")

    def ReportOom(self, request, context):
        if self.oom_delay:
            time.sleep(self.oom_delay)
        if getattr(self.store, "oom_needs_registered_run", False) and request.run_key not in self.store.runs:
            context.abort(grpc.StatusCode.NOT_FOUND, 'run "%s" is not registered: call RegisterRun first' % request.run_key)
        with self.store.lock:
            self.store.ooms.append(request)
        return pb.EventAck(event_id="oom-%d" % len(self.store.ooms))

    def ReportEvent(self, request, context):
        with self.store.lock:
            self.store.events.append(request)
        return pb.EventAck(event_id="ev-%d" % len(self.store.events))


class Server:
    """Start/stop a FakeCollector on a fixed port (so a 'restart' keeps the address)."""

    def __init__(self, store=None, port=0, **kw):
        self.store = store or Store()
        self.kw = kw
        self.port = port
        self.server = None
        self.count = 0

    def start(self, **kw):
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        opts = dict(self.kw)
        opts.update(kw)
        self.servicer = FakeCollector(self.store, server_id=self.count, **opts)
        self.count += 1
        pb_grpc.add_TelemetryServicer_to_server(self.servicer, self.server)
        port = self.server.add_insecure_port("127.0.0.1:%d" % self.port)
        assert port, "could not bind port %d" % self.port
        self.port = port
        self.server.start()
        return self

    def stop(self, grace=None):
        if self.server is not None:
            self.server.stop(grace).wait()
            self.server = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout=10.0, interval=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return pred()
