"""Overload back-off against the real collector (issue 10 part 5).

A collector limited to one open stream (COLLECTOR_MAX_STREAMS=1) refuses a second rank's stream with
RESOURCE_EXHAUSTED and a ``retry-after-ms`` hint. The Python sender must count it, wait at least the hinted
time (jittered exponential back-off otherwise), keep its batches, and deliver all of them once the stream
is free. Uses the collector process helper of test_integration_collector.py (skipped without node).
"""
import time

import grpc

import moe_telemetry
from moe_telemetry.sender import retry_after_seconds
from fake_collector import wait_until
from test_integration_collector import ARGS, FAST, Collector, key, pytestmark  # noqa: F401 (skip without node)

HINT_MS = 1500


class _Err:
    def __init__(self, trailers):
        self._t = trailers

    def trailing_metadata(self):
        return self._t


def test_retry_after_seconds_reads_the_collectors_hint():
    assert retry_after_seconds(_Err((("retry-after-ms", "250"),))) == 0.25
    assert retry_after_seconds(_Err((("grpc-retry-pushback-ms", "1000"),))) == 1.0
    assert retry_after_seconds(_Err((("retry-after-ms", "soon"),))) == 0.0
    assert retry_after_seconds(_Err(())) == 0.0
    assert retry_after_seconds(_Err(None)) == 0.0


def test_refused_stream_backs_off_for_the_hint_and_delivers_everything(tmp_path):
    c = Collector(str(tmp_path / "t.db"), env={"COLLECTOR_MAX_STREAMS": "1", "COLLECTOR_RETRY_AFTER_MS": str(HINT_MS)}).start()
    first = second = None
    try:
        rk = key()
        coords = {"tp": 0, "cp": 0, "pp": 0, "ep": 0}
        first = moe_telemetry.init(collector=c.address, run_key=rk, rank=0, args=ARGS, coords=dict(coords, dp=0), world_size=2, **FAST)
        first.step(1, lm_loss=2.0)
        assert first.flush(30), "the first rank's stream never became durable"
        second = moe_telemetry.init(collector=c.address, run_key=rk, rank=1, args=ARGS, coords=dict(coords, dp=1), world_size=2, **FAST)
        for it in range(1, 6):
            second.step(it, lm_loss=3.0)
        # The only stream is taken: the second rank is refused, more than once, and keeps its batches.
        assert wait_until(lambda: second.counters.get("overloaded") >= 2, timeout=30)
        # Reconnects honour the hint: over a window, at most one refusal per HINT_MS (FAST's own back-off
        # alone, at most 0.5 s, would be refused about four times as often). Load can only lower the count.
        t0, n0 = time.monotonic(), second.counters.get("overloaded")
        time.sleep(4 * HINT_MS / 1000.0)
        t1, n1 = time.monotonic(), second.counters.get("overloaded")
        assert n1 - n0 <= (t1 - t0) / (HINT_MS / 1000.0) + 1, (n0, n1, t1 - t0)
        assert first.close(30)
        first = None
        assert second.flush(60), "the second rank's batches were not delivered after the stream was freed"
        rows = c.dump(rk)
        steps = sorted(r["step"] for r in rows if r["kind"] == "step" and r.get("rank") == 1)
        assert steps == [1, 2, 3, 4, 5]
    finally:
        for s in (first, second):
            if s is not None:
                s.close(5)
        c.stop()


def test_resource_exhausted_is_not_an_auth_failure():
    # The sender treats overload as "come back later", never as a refused token.
    from moe_telemetry._channel import AUTH_CODES
    assert grpc.StatusCode.RESOURCE_EXHAUSTED not in AUTH_CODES
