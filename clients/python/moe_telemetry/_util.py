from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("moe_telemetry")


class Counters:
    """Thread-safe named counters (errors, drops, ...), exposed as Session.stats()."""

    def __init__(self):
        self._lock = threading.Lock()
        self._c: dict[str, int] = {}

    def inc(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._c[name] = self._c.get(name, 0) + n

    def get(self, name: str) -> int:
        with self._lock:
            return self._c.get(name, 0)

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._c)


class RateLimitedLog:
    """Logs a given key at most once per `interval` seconds (repeated errors are counted, not spammed)."""

    def __init__(self, interval: float = 30.0):
        self.interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, level: int, key: str, msg: str, *args, exc_info=None) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last[key] = now
            n = self._suppressed.pop(key, 0)
        if n:
            msg = msg + " (%d similar messages suppressed)" % n
        try:
            logger.log(level, msg, *args, exc_info=exc_info)
        except Exception:  # pragma: no cover
            pass
