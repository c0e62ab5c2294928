"""Background sender: one long-lived `Stream` per rank, at-least-once delivery.

Protocol (proto/moe/telemetry/v1/telemetry.proto):
  RegisterRun (idempotent on run_key) on every (re)connection, then Stream:
  client -> RankHello, Batch(seq=1,2,3,...)      server -> Welcome{durable_seq}, BatchResult, Ack{durable_seq}

Buffering:
  * `pending`  : batches not yet given a sequence number (never sent).
  * `inflight` : batches with a sequence number, sent at least once, not yet acked durable.
  Sequence numbers are assigned when a batch is first sent, so they are contiguous (1, 2, 3, ...)
  even when batches were dropped; the drop count since the previous batch travels in
  Batch.dropped_batches. Sequence numbers belong to this client process: RankHello.client_instance
  is a random id made once per Sender (kept across reconnects), numbering starts at 1, and the
  collector answers Welcome.durable_seq / Ack.durable_seq for this instance only. A restarted job
  (same run_key, same rank) is a new instance: what its predecessor made durable covers none of
  its batches. A durable_seq above the highest seq this process has sent is a protocol
  inconsistency: it is logged and only accepted up to what was sent (unsent batches never count).
  * pending + inflight <= max_buffer. When full, the OLDEST pending batch is dropped (inflight is capped
    at max_inflight < max_buffer, so there is always a pending batch to drop).
  * Acks remove inflight batches with seq <= durable_seq. After a reconnect, Welcome.durable_seq
    removes what became durable meanwhile and everything else inflight is sent again, in order.

Nothing here ever raises into the training thread: `put()` only takes a short lock.
"""
from __future__ import annotations

import collections
import logging
import random
import threading
import time
import uuid
from typing import Callable, Optional, Sequence

import grpc

from ._channel import AUTH_CODES, auth_hint
from ._stubs import pb, pb_grpc
from ._util import Counters, RateLimitedLog, logger

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # The collector's LIMITS.maxMessageBytes: a larger batch would be refused anyway.
    ("grpc.max_send_message_length", 4 * 1024 * 1024),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 0),
]


def retry_after_seconds(err) -> float:
    """The collector's retry hint on RESOURCE_EXHAUSTED (trailer ``retry-after-ms``, or gRPC's standard
    ``grpc-retry-pushback-ms``), in seconds; 0 when there is none. An overloaded collector says when to
    come back; reconnecting sooner would only be refused again."""
    try:
        trailers = err.trailing_metadata() or ()
    except Exception:
        return 0.0
    for key in ("retry-after-ms", "grpc-retry-pushback-ms"):
        for k, v in trailers:
            if k == key:
                try:
                    ms = float(v)
                except (TypeError, ValueError):
                    continue
                if ms >= 0:
                    return ms / 1000.0
    return 0.0


class _Conn:
    """State of one stream attempt."""

    def __init__(self):
        self.welcomed = threading.Event()
        self.dead = False
        self.resend: collections.deque = collections.deque()
        self.address = ""


class Sender:
    def __init__(
        self,
        addresses: Sequence[str],
        register_request: "pb.RegisterRunRequest",
        hello: "pb.RankHello",
        *,
        max_buffer: int = 1024,
        max_inflight: int = 64,
        rpc_timeout: float = 10.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 10.0,
        counters: Optional[Counters] = None,
        on_welcome: Optional[Callable] = None,
        channel_factory: Optional[Callable[[str], "grpc.Channel"]] = None,
    ):
        if not addresses:
            raise ValueError("no collector address")
        self.addresses = list(addresses)
        self.register_request = register_request
        # One id per Sender (one per process: Session makes one Sender), the same across reconnects.
        self.client_instance = uuid.uuid4().hex
        self.hello = type(hello)()
        self.hello.CopyFrom(hello)
        self.hello.client_instance = self.client_instance
        self.max_buffer = max(2, int(max_buffer))
        self.max_inflight = max(1, min(int(max_inflight), self.max_buffer - 1))
        self.rpc_timeout = rpc_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.counters = counters or Counters()
        self.on_welcome = on_welcome
        self._make_channel = channel_factory or (lambda addr: grpc.insecure_channel(addr, options=CHANNEL_OPTIONS))
        self._rl = RateLimitedLog(30.0)
        self._auth_logged = False
        # Seconds the collector asked us to wait before reconnecting (RESOURCE_EXHAUSTED), used once.
        self._retry_after = 0.0

        self._cond = threading.Condition(threading.Lock())
        self._pending: collections.deque = collections.deque()
        self._inflight: "collections.OrderedDict[int, pb.Batch]" = collections.OrderedDict()
        self._next_seq = 1  # the next sequence number to assign; this process starts at 1
        self._dropped_since_last = 0
        self._closing = False
        self._stop = threading.Event()
        self._addr_idx = 0
        self._call = None
        self._channel = None
        self._channel_addr: Optional[str] = None
        self.run_id: Optional[str] = None
        self.moe_layers: list = []
        self.durable_seq = 0
        self.highest_acked = 0
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moe-telemetry-sender", daemon=True)
        self._started = False

    # ------------------------------------------------------------------ training-thread side

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def put(self, batch: "pb.Batch") -> None:
        """Enqueue a batch (no seq yet). Never blocks on the network; drops the oldest unsent if full."""
        with self._cond:
            if self._closing and self._stop.is_set():
                self.counters.inc("batches_after_close")
                return
            while len(self._pending) + len(self._inflight) >= self.max_buffer and self._pending:
                self._pending.popleft()
                self._dropped_since_last += 1
                self.counters.inc("batches_dropped")
            self._pending.append(batch)
            self.counters.inc("batches_enqueued")
            self._cond.notify_all()

    def unacked(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._inflight)

    def flush(self, timeout: float) -> bool:
        """Wait until everything enqueued so far is acked durable (or timeout). True if drained."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while self._pending or self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def close(self, timeout: float) -> bool:
        """Drain (up to timeout), then stop the thread. Returns True if everything was acked."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        drained = self.flush(timeout) if self._started else (self.unacked() == 0)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        call = self._call
        if call is not None:
            try:
                call.cancel()
            except Exception:
                pass
        if self._started:
            self._thread.join(timeout=2.0)
        ch = self._channel
        if ch is not None:
            try:
                ch.close()
            except Exception:
                pass
        lost = self.unacked()
        if lost:
            self.counters.inc("batches_unacked_at_close", lost)
            logger.warning("moe_telemetry: closing with %d batch(es) not acknowledged by the collector", lost)
        return drained

    def current_channel(self):
        """(address, channel) of the live stream, for unary last-gasp calls; may be (None, None)."""
        return self._channel_addr, self._channel

    # ------------------------------------------------------------------ sender thread

    def _backoff(self, attempt: int) -> float:
        # exponential with "equal jitter": half fixed, half random
        d = min(self.backoff_max, self.backoff_initial * (2 ** min(attempt, 20)))
        return d / 2 + random.uniform(0, d / 2)

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            if self._closing and self.unacked() == 0:
                break
            addr = self.addresses[self._addr_idx % len(self.addresses)]
            healthy = False
            try:
                healthy = self._serve(addr)
            except Exception as e:  # never let the thread die
                self.counters.inc("sender_errors")
                self._rl(logging.ERROR, "internal", "moe_telemetry: sender error: %r", e, exc_info=True)
            if self._stop.is_set():
                break
            if self._closing and self.unacked() == 0:
                break
            if healthy:
                attempt = 0
            else:
                attempt += 1
            # on any failure move on to the next collector address
            self._addr_idx = (self._addr_idx + 1) % len(self.addresses)
            self.counters.inc("reconnects")
            # Jittered exponential back-off, and never sooner than an overloaded collector asked.
            delay = max(self._backoff(attempt), self._retry_after)
            self._retry_after = 0.0
            self._stop.wait(delay)

    def _serve(self, addr: str) -> bool:
        """One connection: register, stream until it breaks. Returns True if a Welcome arrived."""
        conn = _Conn()
        conn.address = addr
        channel = self._make_channel(addr)
        self._channel = channel
        self._channel_addr = addr
        call = None
        try:
            stub = pb_grpc.TelemetryStub(channel)
            resp = stub.RegisterRun(self.register_request, timeout=self.rpc_timeout)
            self.run_id = resp.run_id
            if resp.moe_layers:
                self.moe_layers = list(resp.moe_layers)
            call = stub.Stream(self._requests(conn))
            self._call = call
            for msg in call:
                self._on_message(conn, msg)
                if self._stop.is_set():
                    break
            # stream ended by the server without error
            if not (self._closing and self.unacked() == 0):
                self._rl(logging.WARNING, "eos:" + addr, "moe_telemetry: collector %s ended the stream; reconnecting", addr)
        except grpc.RpcError as e:
            code = e.code() if hasattr(e, "code") else None
            if code in AUTH_CODES:
                self._auth_refused(addr, code, e)
            elif code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                # Overloaded: the collector stored what it acked; wait at least as long as it hinted.
                self.counters.inc("overloaded")
                self._retry_after = retry_after_seconds(e)
                details = e.details() if hasattr(e, "details") else str(e)
                self._rl(logging.WARNING, "overload:" + addr,
                         "moe_telemetry: collector %s is overloaded: %s (retrying in >= %.1f s)", addr, details, self._retry_after)
            elif not (self._stop.is_set() and code == grpc.StatusCode.CANCELLED):
                self.counters.inc("rpc_errors")
                details = e.details() if hasattr(e, "details") else str(e)
                self._rl(logging.WARNING, "rpc:%s:%s" % (addr, code),
                         "moe_telemetry: collector %s: %s %s (will retry)", addr, code, details)
        finally:
            conn.dead = True
            self.connected.clear()
            with self._cond:
                self._cond.notify_all()
            if call is not None:
                try:
                    call.cancel()
                except Exception:
                    pass
            self._call = None
            self._channel = None
            self._channel_addr = None
            try:
                channel.close()
            except Exception:
                pass
        return conn.welcomed.is_set()

    def _auth_refused(self, addr: str, code, e) -> None:
        """The collector refused the token: say so once, clearly (training goes on; the sender keeps
        retrying at its back-off, in case the collector's configuration is what gets fixed)."""
        self.counters.inc("auth_errors")
        if self._auth_logged:
            return
        self._auth_logged = True
        details = e.details() if hasattr(e, "details") else str(e)
        logger.error("moe_telemetry: collector %s refused this rank: %s: %s; %s. Training continues; "
                     "telemetry is buffered (oldest dropped when full) and retried.",
                     addr, code.name if hasattr(code, "name") else code, details, auth_hint(code))

    def _on_message(self, conn: _Conn, msg) -> None:
        kind = msg.WhichOneof("kind")
        if kind == "welcome":
            w = msg.welcome
            with self._cond:
                self._ack_locked(self._durable_from_collector(int(w.durable_seq), "Welcome"))
                conn.resend = collections.deque(self._inflight.keys())
                if conn.resend:
                    self.counters.inc("batches_resent", len(conn.resend))
                conn.welcomed.set()
                self._cond.notify_all()
            self.connected.set()
            if w.run_id:
                self.run_id = w.run_id
            if w.moe_layers:
                self.moe_layers = list(w.moe_layers)
            if self.on_welcome is not None:
                try:
                    self.on_welcome(w)
                except Exception:
                    pass
        elif kind == "ack":
            with self._cond:
                self._ack_locked(self._durable_from_collector(int(msg.ack.durable_seq), "Ack"))
                self._cond.notify_all()
        elif kind in ("result", "conflicts"):
            # `conflicts` comes after durability: records stored earlier with other values under the same
            # key (a conflicting rewrite) were refused; the rest of the batch is stored and acked as usual.
            r = getattr(msg, kind)
            if r.rejected:
                what = "rejected" if kind == "result" else "refused as conflicting rewrites"
                self.counters.inc("records_rejected" if kind == "result" else "records_conflicting", len(r.rejected))
                first = r.rejected[0]
                self._rl(logging.WARNING, "%s:%s:%s" % (kind, first.code, first.field),
                         "moe_telemetry: collector %s %d record(s) of batch %d, e.g. %s %s: %s",
                         what, len(r.rejected), r.seq, first.code, first.field, first.reason)

    def _durable_from_collector(self, durable: int, what: str) -> int:
        """The collector's durable_seq, accepted only up to the highest seq this process has sent (lock held).

        More would count batches as durable that the collector cannot have stored from this instance
        (a predecessor's numbering, a confused or forged reply): say so, and keep the unsent ones."""
        sent = self._next_seq - 1
        if durable > sent:
            self.counters.inc("durable_seq_beyond_sent")
            self._rl(logging.WARNING, "durable-beyond:" + what,
                     "moe_telemetry: collector's %s says seq %d is durable, but this process (client_instance %s) "
                     "has only sent up to %d; counting only what was sent", what, durable, self.client_instance, sent)
            return sent
        return durable

    def _ack_locked(self, durable: int) -> None:
        if durable > self.durable_seq:
            self.durable_seq = durable
        while self._inflight:
            seq = next(iter(self._inflight))
            if seq > durable:
                break
            self._inflight.popitem(last=False)
            self.counters.inc("batches_acked")
            self.highest_acked = max(self.highest_acked, seq)

    def _requests(self, conn: _Conn):
        """Request iterator consumed by gRPC's own thread: hello, then resends, then new batches."""
        yield pb.ClientMessage(hello=self.hello)
        while not conn.welcomed.wait(0.05):
            if conn.dead or self._stop.is_set():
                return
        while True:
            msg = None
            with self._cond:
                while msg is None:
                    if conn.dead or self._stop.is_set():
                        return
                    while conn.resend and msg is None:
                        seq = conn.resend.popleft()
                        msg = self._inflight.get(seq)
                    if msg is not None:
                        break
                    if self._pending and len(self._inflight) < self.max_inflight:
                        b = self._pending.popleft()
                        b.seq = self._next_seq
                        b.dropped_batches = self._dropped_since_last
                        self._dropped_since_last = 0
                        self._next_seq += 1
                        self._inflight[b.seq] = b
                        msg = b
                        break
                    if self._closing and not self._pending and not self._inflight:
                        return  # half-close: everything is durable
                    self._cond.wait(0.2)
            self.counters.inc("batches_sent")
            yield pb.ClientMessage(batch=msg)
