"""The public session: init() -> Session with attach(), step(), guard_step(), wrap(), close()."""
from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import re
import sys
import threading
import time
import weakref
from typing import Any, Callable, Optional, Sequence

import grpc

from . import config as _config
from . import memory as _memory
from . import topology as _topo
from ._stubs import pb, pb_grpc
from ._util import Counters, RateLimitedLog, logger
from ._channel import AUTH_CODES, ChannelFactory, auth_hint
from .sender import CHANNEL_OPTIONS, Sender

__version__ = "0.1.0"
CLIENT_NAME = "moe-telemetry-python/" + __version__
DEFAULT_COLLECTOR = "localhost:50051"
UINT32_MAX = 2**32 - 1

_OOM_RE = re.compile(r"out of memory", re.I)
_ALLOC_RE = re.compile(r"Tried to allocate ([0-9.]+)\s*(bytes|B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)", re.I)
_UNITS = {"b": 1, "bytes": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
          "kb": 2**10, "mb": 2**20, "gb": 2**30, "tb": 2**40}


def is_oom_error(exc: BaseException) -> bool:
    try:
        import torch

        oom_t = getattr(torch.cuda, "OutOfMemoryError", None)
        if oom_t is not None and isinstance(exc, oom_t):
            return True
    except Exception:
        pass
    return isinstance(exc, (RuntimeError, MemoryError)) and bool(_OOM_RE.search(str(exc)))


def requested_bytes(message: str) -> Optional[int]:
    m = _ALLOC_RE.search(message or "")
    if not m:
        return None
    try:
        return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    except Exception:
        return None


def _frames_outer_to_inner_tb(tb):
    out = []
    while tb is not None:
        out.append(tb.tb_frame)
        tb = tb.tb_next
    return out


def _frames_outer_to_inner_stack(f):
    out = []
    while f is not None:
        out.append(f)
        f = f.f_back
    out.reverse()
    return out


def classify_frames(frames) -> tuple:
    """(phase, layer or None) from Python frames, outermost first."""
    phase = None
    layer = None
    saw_forward = False
    for f in frames:
        code = f.f_code
        fn = code.co_filename.replace("\\", "/")
        name = code.co_name
        if (fn.endswith("torch/autograd/__init__.py") and name in ("backward", "grad")) or (
                fn.endswith("torch/_tensor.py") and name == "backward") or (
                name == "backward" and code.co_varnames[:1] == ("ctx",)):
            phase = "backward"
        elif phase is None and ("/torch/optim/" in fn or "/megatron/core/optimizer/" in fn):
            phase = "optimizer"
        if name == "forward":
            saw_forward = True
        try:
            obj = f.f_locals.get("self")
        except Exception:
            obj = None
        ln = getattr(obj, "layer_number", None) if obj is not None else None
        if isinstance(ln, int) and not isinstance(ln, bool):
            layer = ln  # innermost wins
    if phase is None:
        phase = "forward" if saw_forward else "unknown"
    return phase, layer


class _NullContext(contextlib.AbstractContextManager):
    def __exit__(self, *exc):
        return False


class NullSession:
    """Returned when telemetry is disabled (MOE_TELEMETRY_DISABLED=1) or could not start. Same API, no-ops."""

    enabled = False
    run_key = None
    rank = None

    def attach(self, model, routers=None):
        return 0

    def detach(self):
        pass

    def step(self, iteration, lm_loss=None):
        pass

    def record_loss(self, layer, name, value):
        pass

    def guard_step(self, iteration=None):
        return _NullContext()

    def wrap(self, fn=None, **kw):
        if fn is None:
            return lambda f: f
        return fn

    def report_oom(self, exc=None, step=None, phase=None, layer=None, message=None):
        return False

    def report_event(self, kind, message="", step=None):
        return False

    def flush(self, timeout=10.0):
        return True

    def close(self, timeout=10.0, finished=True):
        return True

    def stats(self):
        return {}


class Session:
    """One per training rank. Create with moe_telemetry.init()."""

    enabled = True

    def __init__(
        self,
        collectors: Sequence[str],
        run_key: str,
        *,
        args: Any = None,
        rank: Optional[int] = None,
        coords: Optional[dict] = None,
        world_size: Optional[int] = None,
        gpus_per_node: Optional[int] = None,
        gpu_memory_bytes: Optional[int] = None,
        name: Optional[str] = None,
        simulated: bool = False,
        framework: Optional[str] = None,
        framework_version: Optional[str] = None,
        max_buffer: int = 1024,
        max_inflight: int = 64,
        oom_deadline: float = 2.0,
        event_deadline: float = 2.0,
        close_timeout: float = 10.0,
        rpc_timeout: float = 10.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 10.0,
        install_excepthook: bool = True,
        oom_observer: bool = True,
        track_backward_layer: bool = True,
        command_line: Optional[Sequence[str]] = None,
        token: Optional[str] = None,
        tls_ca=None,
        tls_cert=None,
        tls_key=None,
        tls_server_name: Optional[str] = None,
    ):
        # First, so unreadable TLS files fail init() (which logs once and turns telemetry off).
        self._channels = ChannelFactory(CHANNEL_OPTIONS, token=token, tls_ca=tls_ca, tls_cert=tls_cert,
                                        tls_key=tls_key, tls_server_name=tls_server_name)
        self.run_key = run_key
        self.collectors = list(collectors)
        self.counters = Counters()
        self._rl = RateLimitedLog(30.0)
        self.oom_deadline = oom_deadline
        self.event_deadline = event_deadline
        self.close_timeout = close_timeout
        self._pid = os.getpid()
        self._closed = False
        self._crashed = False
        self._lock = threading.Lock()
        self._inst = None
        self._track_backward_layer = track_backward_layer
        self._last_step_t = None
        self._current_step = 0
        self._last_step = None
        self._in_guard = False
        self._oom_reported_in_guard = False
        self._auto_step = 0
        self._unary_channels = {}
        self._held = None  # the last step's Batch, waiting for Megatron's tracker report

        self._init_params = dict(args=args, rank=rank, coords=coords, world_size=world_size,
                                 gpus_per_node=gpus_per_node, gpu_memory_bytes=gpu_memory_bytes, name=name,
                                 simulated=simulated, framework=framework, framework_version=framework_version,
                                 command_line=command_line)
        self._sender_opts = dict(max_buffer=max_buffer, max_inflight=max_inflight, rpc_timeout=rpc_timeout,
                                 backoff_initial=backoff_initial, backoff_max=backoff_max)
        self._sender = None
        self.rank = int(rank) if rank is not None else _topo.global_rank()
        self.coords = {}
        # Megatron present but its parallel state not initialized yet (init() called before pretrain()):
        # wait for the first attach()/step()/guard_step() to read rank, coordinates and args.
        if coords is None and rank is None and _megatron_state_pending():
            logger.info("moe_telemetry: Megatron parallel state not initialized yet; connecting at first use")
        else:
            self._ensure_started()

        ref = weakref.ref(self)

        def _atexit():
            s = ref()
            if s is not None:
                s._at_exit()

        atexit.register(_atexit)
        if install_excepthook:
            self._install_excepthook()
        if oom_observer:
            self._install_oom_observer()

    def _ensure_started(self):
        if self._sender is not None:
            return self._sender
        with self._lock:
            if self._sender is not None:
                return self._sender
            p = self._init_params
            args = p["args"]
            if args is None:
                args = _megatron_args()
            d = _config.args_to_dict(args) if args is not None else {}
            self.rank = int(p["rank"]) if p["rank"] is not None else _topo.global_rank()
            ws = p["world_size"] if p["world_size"] is not None else (d.get("world_size") or _topo.world_size())
            gpn = p["gpus_per_node"] if p["gpus_per_node"] is not None else _topo.gpus_per_node()
            gmem = p["gpu_memory_bytes"] if p["gpu_memory_bytes"] is not None else _topo.gpu_memory_bytes()
            fw, fwv = _config.framework_info()
            req = pb.RegisterRunRequest(
                run_key=self.run_key,
                name=p["name"] or self.run_key,
                config=_config.build_run_config(d),
                world_size=int(ws or 0),
                gpus_per_node=int(gpn or 0),
                gpu_memory_bytes=int(gmem or 0),
                framework=p["framework"] or fw,
                framework_version=p["framework_version"] if p["framework_version"] is not None else fwv,
                simulated=bool(p["simulated"]),
                command_line=list(p["command_line"]) if p["command_line"] is not None else _config.command_line(),
            )
            c = _topo.resolve_coords(p["coords"])
            rc = pb.RankCoords(**{k: v for k, v in c.items() if k != "vpp"})
            if "vpp" in c:
                rc.vpp = c["vpp"]
            self.coords = c
            self.hello = pb.RankHello(run_key=self.run_key, rank=self.rank, host=_topo.hostname(),
                                      device=_topo.device_string(), coords=rc, client=CLIENT_NAME)
            self.register_request = req
            sender = Sender(self.collectors, req, self.hello, counters=self.counters,
                            channel_factory=self._channels, **self._sender_opts)
            sender.start()
            self._sender = sender
            return sender

    # ------------------------------------------------------------------ model hooks

    def attach(self, model, routers=None) -> int:
        """Hook every router of `model` (an nn.Module or a list of model chunks, as Megatron keeps them).
        Returns the number of routers found (duck-typed candidates are confirmed at their first call)."""
        self._ensure_started()
        self._instrumentation()
        models = model if isinstance(model, (list, tuple)) else [model]
        n = 0
        for m in models:
            inner = m
            n += self._inst.attach(inner, routers=routers)
        if n == 0:
            logger.warning("moe_telemetry: attach() found no router modules yet (duck-typed candidates are "
                           "checked at their first forward)")
        return n

    def _instrumentation(self):
        if self._inst is None:
            from .hooks import RouterInstrumentation

            self._inst = RouterInstrumentation(self.counters, track_backward_layer=self._track_backward_layer)
            self._inst.on_tracker_report = self._on_tracker_report
        return self._inst

    def _on_tracker_report(self, snapshot: dict) -> bool:
        """Megatron's training_log reported its tracker: the losses belong to the step held back for them.
        False when no step waits (training_log ran before step(); collect() then uses them)."""
        held = self._held
        if held is None:
            return False
        self._held = None
        try:
            from .hooks import tracker_losses

            for lr in held.layers:
                for name, v in tracker_losses(snapshot, lr.layer, lr.micro_batches).items():
                    if not lr.HasField(name):
                        setattr(lr, name, v)
        finally:
            self._put(held)
        return True

    def _release_held(self, why: str) -> None:
        """Send the step still waiting for Megatron's report without its losses (no report came)."""
        held = self._held
        if held is None:
            return
        self._held = None
        self.counters.inc("steps_without_tracker_report")
        self._rl(logging.INFO, "held", "moe_telemetry: step %d sent without Megatron's aux/z-loss values (%s)",
                 held.steps[0].step if held.steps else -1, why)
        self._put(held)

    def _put(self, batch) -> None:
        self._sender.put(batch)
        self.counters.inc("steps")

    def detach(self):
        if self._inst is not None:
            self._inst.detach()

    def record_loss(self, layer: int, name: str, value) -> None:
        """For non-Megatron models: record a per-layer loss value (e.g. "load_balancing_loss") once per
        micro-batch; step() sends the mean over the step's micro-batches. Tensors stay on the device."""
        try:
            self._instrumentation().record_loss(layer, name, value)
        except Exception as e:
            self.counters.inc("errors")
            self._rl(logging.WARNING, "record_loss", "moe_telemetry: record_loss failed: %r", e)

    # ------------------------------------------------------------------ per step

    def step(self, iteration: int, lm_loss=None) -> None:
        """End of a training iteration (call once, after the optimizer step). Collects the step's
        counts, losses and memory and enqueues one Batch. Never raises."""
        try:
            self._step(int(iteration), lm_loss)
        except Exception as e:
            self.counters.inc("errors")
            self._rl(logging.WARNING, "step", "moe_telemetry: step() failed (ignored): %r", e, exc_info=True)

    def _step(self, iteration: int, lm_loss) -> None:
        if self._closed or os.getpid() != self._pid:
            return
        self._ensure_started()
        self._release_held("training_log did not report before the next step")
        now = time.monotonic()
        it_ms = (now - self._last_step_t) * 1000.0 if self._last_step_t is not None else None
        self._last_step_t = now
        self._last_step = iteration
        self._current_step = iteration + 1
        layers = self._inst.collect() if self._inst is not None else []
        batch = pb.Batch()
        for item in layers:
            lr = batch.layers.add()
            lr.step = iteration
            lr.layer = int(item["layer"])
            lr.micro_batches = int(item["micro_batches"])
            lr.tokens = int(item["tokens"])
            if "counts" in item:
                lr.tokens_per_expert.extend(_u32(item["counts"]))
            if "before" in item:
                lr.tokens_per_expert_before_drop.extend(_u32(item["before"]))
            if "received" in item:
                lr.received_per_local_expert.extend(_u32(item["received"]))
            if "dropped" in item:
                lr.dropped = max(0, int(item["dropped"]))
            for k, v in item.get("losses", {}).items():
                if k in ("load_balancing_loss", "seq_load_balancing_loss", "global_load_balancing_loss", "z_loss"):
                    setattr(lr, k, float(v))
        s = batch.steps.add()
        s.step = iteration
        if it_ms is not None:
            s.iteration_time_ms = it_ms
        if lm_loss is not None:
            try:
                s.lm_loss = float(lm_loss.item() if hasattr(lm_loss, "item") else lm_loss)
            except Exception:
                pass
        _memory.fill_memory_sample(s.memory, _memory.memory_dict())
        s.wall_time_ms = time.time() * 1000.0
        if self._inst is not None and self._inst.tracker_pending and len(batch.layers) > 0:
            # Megatron's training_log reports this iteration's aux/z losses after train_step returns:
            # hold the step until then (_on_tracker_report), so each loss lands on the iteration it belongs to.
            self._held = batch
            return
        self._put(batch)

    # ------------------------------------------------------------------ OOM

    @contextlib.contextmanager
    def guard_step(self, iteration: Optional[int] = None):
        """Wrap one training iteration: on CUDA OOM (torch.cuda.OutOfMemoryError, or a RuntimeError
        saying "out of memory") send ReportOom synchronously (deadline oom_deadline), then re-raise."""
        if iteration is not None:
            self._current_step = int(iteration)
        try:
            self._ensure_started()
        except Exception as e:
            self._rl(logging.WARNING, "start", "moe_telemetry: could not start: %r", e)
        self._in_guard = True
        self._oom_reported_in_guard = False
        try:
            yield self
        except BaseException as e:
            if is_oom_error(e) and not self._oom_reported_in_guard:
                self.report_oom(e, step=self._current_step)
            raise
        finally:
            self._in_guard = False

    def wrap(self, fn: Optional[Callable] = None, *, iteration_kwarg: str = "iteration", iteration_offset: int = 0,
             call_step: bool = True, attach_model: bool = True):
        """Decorator for a train-step function: guard_step() around it, then step() after it.

        The step number is kwargs[iteration_kwarg] + iteration_offset when the function receives it
        (Megatron's train_step gets iteration=N and logs N + 1: use iteration_offset=1), else a counter.
        With attach_model, the first call attaches to the first nn.Module (or list of them) argument."""
        if fn is None:
            return lambda f: self.wrap(f, iteration_kwarg=iteration_kwarg, iteration_offset=iteration_offset,
                                       call_step=call_step, attach_model=attach_model)
        state = {"attached": False}

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            it = kw.get(iteration_kwarg)
            if it is None:
                self._auto_step += 1
                step_no = self._auto_step
            else:
                step_no = int(it) + iteration_offset
            if attach_model and not state["attached"]:
                state["attached"] = True
                try:
                    m = _find_model_arg(a, kw)
                    if m is not None:
                        self.attach(m)
                except Exception as e:
                    self._rl(logging.WARNING, "wrap-attach", "moe_telemetry: attach from wrap() failed: %r", e)
            with self.guard_step(step_no):
                result = fn(*a, **kw)
            if call_step:
                self.step(step_no, lm_loss=_lm_loss_from_result(result))
            return result

        return wrapper

    def report_oom(self, exc: Optional[BaseException] = None, step: Optional[int] = None, phase: Optional[str] = None,
                   layer: Optional[int] = None, message: Optional[str] = None, requested: Optional[int] = None) -> bool:
        """Send ReportOom now (synchronous, deadline oom_deadline). Returns True if acknowledged."""
        try:
            if os.getpid() != self._pid:
                return False
            if exc is not None and (phase is None or layer is None):
                ph, ly = classify_frames(_frames_outer_to_inner_tb(exc.__traceback__))
                phase = phase or ph
                if layer is None:
                    layer = ly
            if layer is None and self._inst is not None:
                # best effort: the last layer whose router ran (forward) or whose router probs received
                # their gradient (backward); nothing when the phase is not known
                if phase == "backward":
                    layer = self._inst.last_backward_layer
                elif phase == "forward":
                    layer = self._inst.last_forward_layer
            msg = message if message is not None else (("%s: %s" % (type(exc).__name__, exc)) if exc is not None else "")
            rep = pb.OomReport(run_key=self.run_key, rank=self.rank,
                               step=int(step if step is not None else self._current_step),
                               phase=phase or "unknown", message=msg[:4000], wall_time_ms=time.time() * 1000.0)
            if layer is not None:
                rep.layer = int(layer)
            rb = requested if requested is not None else requested_bytes(msg)
            if rb is not None:
                rep.requested_bytes = int(rb)
            _memory.fill_memory_sample(rep.memory, _memory.memory_dict())
            ok = self._unary("ReportOom", rep, self.oom_deadline)
            self.counters.inc("oom_reported" if ok else "oom_report_failed")
            if self._in_guard:
                self._oom_reported_in_guard = True
            return ok
        except Exception as e:
            self.counters.inc("errors")
            self._rl(logging.WARNING, "oom", "moe_telemetry: report_oom failed: %r", e)
            return False

    def report_event(self, kind: str, message: str = "", step: Optional[int] = None) -> bool:
        """ReportEvent CRASH or FINISHED for this rank (synchronous, deadline event_deadline)."""
        try:
            k = {"crash": pb.RunEvent.CRASH, "finished": pb.RunEvent.FINISHED}[kind.lower()]
            ev = pb.RunEvent(run_key=self.run_key, rank=self.rank, kind=k,
                             step=int(step if step is not None else (self._last_step or 0)),
                             message=(message or "")[:4000], wall_time_ms=time.time() * 1000.0)
            ok = self._unary("ReportEvent", ev, self.event_deadline)
            self.counters.inc("events_reported" if ok else "event_report_failed")
            return ok
        except Exception as e:
            self.counters.inc("errors")
            self._rl(logging.WARNING, "event", "moe_telemetry: report_event failed: %r", e)
            return False

    def _unary(self, method: str, req, deadline: float) -> bool:
        """Try the live stream's collector first, then the others, within one overall deadline."""
        end = time.monotonic() + deadline
        live_addr, live_ch = self._sender.current_channel() if self._sender is not None else (None, None)
        order = []
        if live_addr is not None:
            order.append(live_addr)
        order += [a for a in self.collectors if a != live_addr]
        last_err = None
        for addr in order:
            left = end - time.monotonic()
            if left <= 0.01:
                break
            ch = live_ch if (addr == live_addr and live_ch is not None) else self._unary_channel(addr)
            try:
                stub = pb_grpc.TelemetryStub(ch)
                try:
                    getattr(stub, method)(req, timeout=left)
                except grpc.RpcError as e:
                    # The background sender may not have registered the run yet (an OOM in the first
                    # step): register now, synchronously, within the same deadline, and send again.
                    register = getattr(self, "register_request", None)
                    if register is None or e.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    stub.RegisterRun(register, timeout=max(0.01, end - time.monotonic()))
                    getattr(stub, method)(req, timeout=max(0.01, end - time.monotonic()))
                return True
            except grpc.RpcError as e:
                last_err = e
                code = e.code() if hasattr(e, "code") else None
                if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                            grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                    break  # another collector would say the same
            except Exception as e:  # channel closed under us, etc.
                last_err = e
        code = last_err.code() if isinstance(last_err, grpc.RpcError) and hasattr(last_err, "code") else None
        if code in AUTH_CODES:
            self.counters.inc("auth_errors")
            self._rl(logging.ERROR, "unary-auth", "moe_telemetry: %s refused: %s: %s; %s", method, code.name,
                     last_err.details() if hasattr(last_err, "details") else last_err, auth_hint(code))
        else:
            self._rl(logging.WARNING, "unary:" + method, "moe_telemetry: %s failed: %r", method, last_err)
        return False

    def _unary_channel(self, addr):
        ch = self._unary_channels.get(addr)
        if ch is None:
            ch = self._channels(addr)
            self._unary_channels[addr] = ch
        return ch

    def _install_oom_observer(self):
        """PyTorch >= 2.0: torch._C._cuda_attach_out_of_memory_observer(cb(device, alloc, device_alloc,
        device_free)) runs inside the allocator before the OutOfMemoryError is raised: report from there
        too (guard_step then does not report the same OOM twice)."""
        try:
            import torch

            attach = getattr(torch._C, "_cuda_attach_out_of_memory_observer", None)
            if attach is None or not torch.cuda.is_available():
                return
            ref = weakref.ref(self)

            def observer(device, alloc, device_alloc, device_free):
                s = ref()
                if s is None or s._closed:
                    return
                try:
                    from .hooks import in_backward

                    phase, layer = classify_frames(_frames_outer_to_inner_stack(sys._getframe(1)))
                    if in_backward():
                        phase = "backward"
                    s.report_oom(None, step=s._current_step, phase=phase, layer=layer,
                                 message="CUDA out of memory on device %s: tried to allocate %d bytes "
                                         "(device allocated %d, device free %d)" % (device, alloc, device_alloc, device_free),
                                 requested=int(alloc))
                except Exception:
                    pass

            attach(observer)
            self.counters.inc("oom_observer_installed")
        except Exception as e:
            self._rl(logging.INFO, "observer", "moe_telemetry: OOM observer not installed: %r", e)

    def _install_excepthook(self):
        prev = sys.excepthook
        ref = weakref.ref(self)

        def hook(etype, value, tb):
            s = ref()
            if s is not None and not s._closed and os.getpid() == s._pid:
                try:
                    s._crashed = True
                    s.report_event("crash", "%s: %s" % (etype.__name__, value), step=s._current_step)
                except Exception:
                    pass
            prev(etype, value, tb)

        sys.excepthook = hook

    # ------------------------------------------------------------------ lifecycle

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every batch enqueued so far is acked durable. True if so."""
        if self._sender is None:
            return True
        self._release_held("flush")
        return self._sender.flush(timeout)

    def close(self, timeout: Optional[float] = None, finished: bool = True) -> bool:
        """Flush (up to timeout), report FINISHED for this rank (unless a crash was reported or
        finished=False), stop the sender. Idempotent. Returns True if everything was acked."""
        with self._lock:
            if self._closed or os.getpid() != self._pid:
                return True
            self._closed = True
        timeout = self.close_timeout if timeout is None else timeout
        drained = False
        try:
            if self._inst is not None:
                self._inst.enabled = False
            if self._sender is None:
                return True  # never used: nothing to flush or report
            self._release_held("close")
            drained = self._sender.close(timeout)
            if finished and not self._crashed:
                self.report_event("finished", "", step=self._last_step)
        except Exception as e:
            self._rl(logging.WARNING, "close", "moe_telemetry: close failed: %r", e)
        finally:
            for ch in self._unary_channels.values():
                try:
                    ch.close()
                except Exception:
                    pass
            self._unary_channels = {}
        return drained

    def _at_exit(self):
        try:
            self.close(self.close_timeout, finished=not self._crashed)
        except Exception:
            pass

    def stats(self) -> dict:
        """Counters: batches_enqueued/sent/acked/dropped/resent, rpc_errors, reconnects, hook_errors, ..."""
        d = self.counters.snapshot()
        d["unacked"] = self._sender.unacked() if self._sender is not None else 0
        d["durable_seq"] = self._sender.durable_seq if self._sender is not None else 0
        return d

    @property
    def connected(self) -> bool:
        return self._sender is not None and self._sender.connected.is_set()

    @property
    def run_id(self):
        return self._sender.run_id if self._sender is not None else None


def _megatron_state_pending() -> bool:
    """True when megatron.core is importable but its parallel state is not initialized yet."""
    if "megatron.core" not in sys.modules:
        try:
            import importlib.util

            if importlib.util.find_spec("megatron") is None:
                return False
        except Exception:
            return False
    try:
        from megatron.core import parallel_state as ps  # type: ignore

        return not ps.model_parallel_is_initialized()
    except Exception:
        return False


def _megatron_args():
    """megatron.training.get_args() when Megatron's global args exist, else None."""
    if "megatron.training" not in sys.modules and "megatron.training.global_vars" not in sys.modules:
        return None
    try:
        from megatron.training import get_args  # type: ignore

        return get_args()
    except Exception:
        return None


def _u32(values):
    """Counts are non-negative; clamp only in the (practically impossible) overflow case."""
    if values and (max(values) > UINT32_MAX or min(values) < 0):
        return [min(UINT32_MAX, max(0, int(c))) for c in values]
    return values


def _find_model_arg(a, kw):
    try:
        import torch.nn as nn
    except Exception:
        return None
    cands = [kw.get("model")] + list(a) + list(kw.values())
    for c in cands:
        if isinstance(c, nn.Module):
            return c
        if isinstance(c, (list, tuple)) and c and all(isinstance(x, nn.Module) for x in c):
            return list(c)
    return None


def _lm_loss_from_result(result):
    """Megatron's train_step returns (loss_dict, ...) with loss_dict['lm loss'] a scalar or [sum, count]."""
    try:
        if isinstance(result, tuple) and result and isinstance(result[0], dict):
            v = result[0].get("lm loss")
            if v is None:
                return None
            if hasattr(v, "numel") and v.numel() == 2:
                s, c = v.float().tolist()
                return s / c if c else None
            return v
        if isinstance(result, (int, float)):
            return result
        if hasattr(result, "numel") and result.numel() == 1:
            return result
    except Exception:
        pass
    return None


def _split_collectors(c) -> list:
    if c is None:
        return []
    if isinstance(c, (list, tuple)):
        parts = []
        for x in c:
            parts += _split_collectors(x)
        return parts
    return [p.strip() for p in str(c).split(",") if p.strip()]


def init(collector=None, run_key: Optional[str] = None, args: Any = None, rank: Optional[int] = None,
         coords: Optional[dict] = None, world_size: Optional[int] = None, gpus_per_node: Optional[int] = None,
         gpu_memory_bytes: Optional[int] = None, name: Optional[str] = None, simulated: bool = False,
         token: Optional[str] = None, tls_ca=None, tls_cert=None, tls_key=None, **options):
    """Start telemetry for this rank. Returns a Session (or a NullSession when disabled).

    collector: "host:port", or several comma-separated (or a list); MOE_TELEMETRY_COLLECTOR overrides.
    run_key: stable across restarts of the job; MOE_TELEMETRY_RUN_KEY overrides; falls back to
             SLURM_JOB_ID / TORCHELASTIC_RUN_ID. MOE_TELEMETRY_DISABLED=1 turns everything off.
    token: ingest token of the run's project (`moe-telemetry tokens create`); default MOE_TELEMETRY_TOKEN.
    tls_ca / tls_cert / tls_key: PEM text or file paths; TLS to the collector when tls_ca (or a client
             certificate) is given; defaults MOE_TELEMETRY_TLS_CA / _CERT / _KEY (and
             MOE_TELEMETRY_TLS_SERVER_NAME, or tls_server_name=, when the certificate names another host).
    Call it after Megatron's parallel state is initialized (coordinates are read from it then).
    Never raises for telemetry problems: logs and returns a NullSession instead.
    """
    if os.environ.get("MOE_TELEMETRY_DISABLED", "").strip().lower() in ("1", "true", "yes", "on"):
        logger.info("moe_telemetry: disabled by MOE_TELEMETRY_DISABLED")
        return NullSession()
    try:
        collectors = _split_collectors(os.environ.get("MOE_TELEMETRY_COLLECTOR") or collector or DEFAULT_COLLECTOR)
        rk = os.environ.get("MOE_TELEMETRY_RUN_KEY") or run_key
        if not rk:
            for env in ("SLURM_JOB_ID", "TORCHELASTIC_RUN_ID"):
                v = os.environ.get(env)
                if v and v != "none":
                    rk = "%s-%s" % (env.split("_")[0].lower(), v)
                    break
        if not rk:
            logger.error("moe_telemetry: no run_key (pass run_key=... or set MOE_TELEMETRY_RUN_KEY); telemetry is off")
            return NullSession()
        return Session(collectors, rk, args=args, rank=rank, coords=coords, world_size=world_size,
                       gpus_per_node=gpus_per_node, gpu_memory_bytes=gpu_memory_bytes, name=name,
                       simulated=simulated, token=token, tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key,
                       **options)
    except TypeError:
        raise  # a wrong keyword is a programming error, not a telemetry outage
    except Exception as e:
        logger.error("moe_telemetry: could not start (%r); telemetry is off", e, exc_info=True)
        return NullSession()
