"""Router / experts hooks: per-layer expert token counts, recompute-aware, kept on the device.

Router detection (duck-typed, works without Megatron):
  * a module whose class name contains "Router" (Megatron's TopKRouter and subclasses), or
  * a module with a `layer_number` attribute whose forward returns a 2-tuple
    (probs, routing_map) -- checked at the first call.
  Output formats understood:
  * current Megatron (core_r0.10+): (probs, routing_map), routing_map bool [tokens, num_experts]
    (after capacity dropping; with --moe-pad-expert-input-to-capacity it is the capacity mask);
  * old Megatron (core_r0.8/0.9): (scores, indices), indices int [tokens, topk] -> counted with a
    scatter-add (negative indices ignored);
  * an integer 0/1 map [tokens, num_experts].

Counting once per micro-batch under activation recomputation
-------------------------------------------------------------
A layer's forward may run twice per micro-batch when activations are recomputed:
  * reentrant checkpoint (torch.utils.checkpoint(use_reentrant=True), Megatron's
    tensor_parallel.checkpoint / CheckpointFunction used by --recompute-granularity full and
    --recompute-modules moe, TE's checkpoint): the first forward runs under torch.no_grad(); the
    recompute runs inside backward under torch.enable_grad().
  * non-reentrant checkpoint (torch.utils.checkpoint(use_reentrant=False)): the first forward runs
    WITH grad enabled (saved-tensor hooks drop the activations); the recompute runs inside backward,
    from the saved-tensor unpack hook, also with grad enabled.
So "module.training and torch.is_grad_enabled()" alone double counts non-reentrant recomputation.
Rule used here, per layer:
  1. training forward with grad enabled, not inside backward      -> count;
  2. training forward under no_grad, not inside backward          -> do not count, remember one
     "pending" pass for this layer (may be the first half of a reentrant checkpoint);
  3. forward inside backward (a recompute) with grad enabled      -> count only if a pending pass
     exists (reentrant: its first pass was not counted), consuming it; otherwise skip
     (non-reentrant: the first pass was counted already).
  Pending passes are discarded at step(); eval-mode forwards are never counted.
  This counts exactly once per micro-batch for plain, reentrant and non-reentrant checkpointing, and
  counts the pass that produces gradients, as Megatron's own aux-loss logging and expert-bias
  counting do (they are gated on torch.is_grad_enabled()).
"Inside backward" is torch._C._current_graph_task_id() != -1 where PyTorch has it (2.x); on older
PyTorch (1.13) the Python stack is inspected for an autograd Function's backward(ctx, ...), the
torch.autograd.backward/grad entry points, or torch.utils.checkpoint's unpack hook.
"""
from __future__ import annotations

import logging
import sys
import threading
from typing import Callable, Dict, Optional

from ._util import Counters, RateLimitedLog, logger

try:
    import torch
except Exception:  # pragma: no cover - the hooks need torch, the rest of the package does not
    torch = None

LOSS_NAMES = ("load_balancing_loss", "seq_load_balancing_loss", "global_load_balancing_loss", "z_loss")

_tls = threading.local()

# ---------------------------------------------------------------------------------------------
# "are we inside backward?" (recompute detection)

_graph_task_id = None
if torch is not None:
    _graph_task_id = getattr(torch._C, "_current_graph_task_id", None)

_code_cache: Dict[object, bool] = {}
_RECOMP_FN_NAMES = {"unpack", "unpack_hook", "recompute_fn", "_recompute"}


def _is_backward_code(code) -> bool:
    r = _code_cache.get(code)
    if r is None:
        name = code.co_name
        fn = code.co_filename.replace("\\", "/")
        r = False
        if name == "backward" and code.co_varnames[:1] == ("ctx",):
            r = True  # autograd.Function.backward (reentrant checkpoints of torch, Megatron, TE)
        elif fn.endswith("torch/autograd/__init__.py") and name in ("backward", "grad"):
            r = True
        elif fn.endswith("torch/_tensor.py") and name == "backward":
            r = True
        elif name in _RECOMP_FN_NAMES and "checkpoint" in fn:
            r = True  # torch.utils.checkpoint non-reentrant unpack hook
        _code_cache[code] = r
    return r


def in_backward() -> bool:
    if _graph_task_id is not None:
        try:
            return _graph_task_id() != -1
        except Exception:
            pass
    f = sys._getframe(1)
    n = 0
    while f is not None and n < 400:
        if _is_backward_code(f.f_code):
            return True
        f = f.f_back
        n += 1
    return False


# ---------------------------------------------------------------------------------------------


class LayerState:
    __slots__ = ("layer", "num_experts", "counts", "before", "dropped", "received", "micro_batches",
                 "tokens", "pending_nograd", "last_counted", "losses", "loss_n")

    def __init__(self, layer: int):
        self.layer = layer
        self.num_experts = 0
        self.counts = None  # device int64 [E]
        self.before = None  # device int64 [E], counts before capacity dropping
        self.dropped = None  # device int64 scalar
        self.received = None  # int64 [E/ep] on the device tokens_per_expert lives on
        self.micro_batches = 0
        self.tokens = 0
        self.pending_nograd = 0
        self.last_counted = False
        self.losses: Dict[str, float] = {}
        self.loss_n: Dict[str, int] = {}

    def reset(self):
        self.counts = None
        self.before = None
        self.dropped = None
        self.received = None
        self.micro_batches = 0
        self.tokens = 0
        self.pending_nograd = 0
        self.last_counted = False
        self.losses = {}
        self.loss_n = {}


def _looks_like_router(name: str, m) -> bool:
    cls = type(m).__name__
    if "Router" in cls and not cls.startswith("MoERouterReplay") and not cls.endswith("Replay"):
        return True
    return False


class RouterInstrumentation:
    """Installs and owns the hooks; accumulates per-layer state for the current step."""

    def __init__(self, counters: Counters, track_backward_layer: bool = True):
        self.counters = counters
        self.layers: Dict[int, LayerState] = {}
        self.handles = []
        self.track_backward_layer = track_backward_layer
        self.enabled = True
        self.last_forward_layer: Optional[int] = None
        self.last_backward_layer: Optional[int] = None
        self._rl = RateLimitedLog(60.0)
        self._auto_layer = {}  # id(module) -> assigned layer number for routers without layer_number
        # Megatron's metrics tracker: the values its training_log reported (after report()'s all-reduce),
        # captured inside report() before it clears them. on_tracker_report(snapshot) -> bool is offered them first
        # (the session fills the step it holds back for them); if it declines, the next collect() uses them.
        self._tracker_snapshot = None
        self._tracker_patched = None
        self.tracker_active = False     # a Megatron tracker is hooked: losses arrive with its report()
        self.tracker_pending = False    # the last collect() found no report for its step yet
        self.on_tracker_report: Optional[Callable[[dict], bool]] = None
        self._probe = {}  # id(module) -> hook handles, for duck-typed candidates not yet confirmed

    # ------------------------------------------------------------------ attach

    def attach(self, model, routers=None) -> int:
        if torch is None:
            raise RuntimeError("moe_telemetry.attach needs PyTorch")
        found = []
        modules = list(model.named_modules()) if hasattr(model, "named_modules") else []
        if routers is not None:
            found = list(routers)
        else:
            for name, m in modules:
                if _looks_like_router(name, m):
                    found.append(m)
        probes = []
        if routers is None and not found:
            # duck-typed candidates: any module with `layer_number`; the first call decides (a 2-tuple
            # whose second element is a bool/int tensor [tokens, E] or [tokens, k]), else unhooked.
            for name, m in modules:
                if hasattr(m, "layer_number") and m is not model:
                    probes.append(m)
        seen = set()
        n = 0
        for m in found + probes:
            if id(m) in seen:
                continue
            seen.add(id(m))
            hs = [m.register_forward_pre_hook(self._router_pre_hook), m.register_forward_hook(self._router_hook)]
            self.handles.extend(hs)
            if m in probes:
                self._probe[id(m)] = hs
            else:
                n += 1
            self._maybe_patch_token_dropping(m)
        # experts (received counts): a module with both `router` and `experts` children
        for name, m in modules:
            r = getattr(m, "router", None)
            ex = getattr(m, "experts", None)
            if r is not None and id(r) in seen and id(r) not in self._probe and ex is not None and hasattr(ex, "register_forward_pre_hook"):
                self.handles.append(ex.register_forward_pre_hook(self._make_experts_pre_hook(r)))
        self._maybe_patch_tracker()
        return n

    def detach(self):
        for h in self.handles:
            try:
                h.remove()
            except Exception:
                pass
        self.handles = []

    # ------------------------------------------------------------------ layer numbers

    def layer_of(self, module) -> int:
        ln = getattr(module, "layer_number", None)
        if isinstance(ln, int) and not isinstance(ln, bool):
            return ln
        if ln is not None:
            try:
                return int(ln)
            except Exception:
                pass
        k = id(module)
        if k not in self._auto_layer:
            self._auto_layer[k] = len(self._auto_layer) + 1
        return self._auto_layer[k]

    def state(self, layer: int) -> LayerState:
        st = self.layers.get(layer)
        if st is None:
            st = self.layers[layer] = LayerState(layer)
        return st

    # ------------------------------------------------------------------ hooks

    def _router_pre_hook(self, module, inputs):
        _tls.predrop = None
        _tls.armed = self.enabled
        return None

    def _router_hook(self, module, inputs, output):
        try:
            self._on_router_output(module, output)
        except Exception as e:
            self.counters.inc("hook_errors")
            self._rl(logging.WARNING, "hook:%s" % type(e).__name__,
                     "moe_telemetry: router hook error (ignored): %r", e, exc_info=True)
        return None

    def _on_router_output(self, module, output):
        predrop = getattr(_tls, "predrop", None)
        _tls.predrop = None
        _tls.armed = False
        if not self.enabled or not module.training:
            return
        if not isinstance(output, (tuple, list)) or len(output) != 2:
            if self._probe and id(module) in self._probe:
                for h in self._probe.pop(id(module)):
                    h.remove()
            return
        rm = output[1]
        if not isinstance(rm, torch.Tensor):
            return
        if self._probe and id(module) in self._probe:
            hs = self._probe.pop(id(module))
            if rm.dim() < 1 or rm.is_floating_point() or rm.is_complex():
                for h in hs:
                    h.remove()
                return
            logger.info("moe_telemetry: %s (layer_number=%s) detected as a router", type(module).__name__,
                        getattr(module, "layer_number", None))
        layer = self.layer_of(module)
        st = self.state(layer)
        self.last_forward_layer = layer
        grad = torch.is_grad_enabled()
        if not grad:
            st.pending_nograd += 1
            st.last_counted = False
            return
        if in_backward():
            if st.pending_nograd > 0:
                st.pending_nograd -= 1
                self.counters.inc("recompute_counted")
            else:
                st.last_counted = False
                self.counters.inc("recompute_skipped")
                return
        counts, tokens, e = self._counts(module, rm)
        if counts is None:
            st.last_counted = False
            return
        st.num_experts = e
        st.counts = counts if st.counts is None else st.counts.add_(counts)
        st.tokens += tokens
        st.micro_batches += 1
        st.last_counted = True
        if predrop is not None:
            before, dropped = predrop
            st.before = before if st.before is None else st.before.add_(before)
            st.dropped = dropped if st.dropped is None else st.dropped.add_(dropped)
        if self.track_backward_layer:
            probs = output[0]
            if isinstance(probs, torch.Tensor) and probs.requires_grad:
                probs.register_hook(_BackwardMark(self, layer))

    def _counts(self, module, rm):
        """(counts int64 [E] on rm's device, tokens, E) or (None, 0, 0)."""
        if rm.dim() == 0:
            return None, 0, 0
        e_attr = getattr(module, "num_experts", None)
        if e_attr is None:
            cfg = getattr(module, "config", None)
            e_attr = getattr(cfg, "num_moe_experts", None)
        topk = getattr(module, "topk", None)
        if rm.dtype == torch.bool:
            m2 = rm.reshape(-1, rm.shape[-1])
            return m2.sum(0), int(m2.shape[0]), int(m2.shape[1])
        if rm.is_floating_point():
            self._rl(logging.WARNING, "fmt:float", "moe_telemetry: router %s returned a floating routing map; not counted",
                     type(module).__name__)
            return None, 0, 0
        last = int(rm.shape[-1])
        if e_attr is not None and last == int(e_attr) and (topk is None or int(topk) != last):
            m2 = rm.reshape(-1, last)
            return m2.sum(0, dtype=torch.int64), int(m2.shape[0]), last
        # top-k indices [tokens, k] (old Megatron returned (scores, indices))
        if e_attr is None:
            self._rl(logging.WARNING, "fmt:noE", "moe_telemetry: router %s returned indices but has no num_experts; not counted",
                     type(module).__name__)
            return None, 0, 0
        e = int(e_attr)
        idx = rm.reshape(-1).to(torch.int64)
        valid = idx >= 0
        counts = torch.zeros(e, dtype=torch.int64, device=rm.device)
        counts.index_add_(0, idx.clamp(min=0), valid.to(torch.int64))
        tokens = int(rm.shape[0]) if rm.dim() > 1 else int(rm.shape[0])
        return counts, tokens, e

    def _make_experts_pre_hook(self, router):
        def hook(module, args):
            try:
                if not self.enabled or not module.training:
                    return None
                st = self.layers.get(self.layer_of(router))
                if st is None or not st.last_counted:
                    return None
                if len(args) < 2:
                    return None
                tpe = args[1]
                if isinstance(tpe, torch.Tensor):
                    t = tpe.detach().reshape(-1).to(torch.int64)
                elif isinstance(tpe, (list, tuple)):
                    t = torch.tensor([int(x) for x in tpe], dtype=torch.int64)
                else:
                    return None
                st.received = t if st.received is None else st.received.add_(t)
            except Exception as e:
                self.counters.inc("hook_errors")
                self._rl(logging.WARNING, "ehook", "moe_telemetry: experts hook error (ignored): %r", e)
            return None

        return hook

    # ------------------------------------------------------------------ capacity: counts before dropping

    def _maybe_patch_token_dropping(self, router):
        _patch_token_dropping(sys.modules.get(type(router).__module__))

    # ------------------------------------------------------------------ Megatron metrics tracker

    def _maybe_patch_tracker(self):
        """Capture Megatron's per-layer aux/z-loss values as its training_log reported them.

        Megatron's loop (core 0.20): train_step returns, iteration += 1, then training_log calls the tracker's
        report(), which all-reduces the values in place (over PP, the TP x CP sum, the DP average), logs them
        and ends by calling its own clear(); training_log calls no clear() after it. A hook on train_step runs
        before that report, so the values belong to the iteration whose report() ran: they are read inside
        report(), at the clear() it calls (after the all-reduce), or, should a report() not clear, when it
        returns. A clear() outside report() (after evaluation) is ignored. The values are handed to the step
        that waits for them (see collect() / Session)."""
        try:
            from megatron.core.transformer.moe import moe_logging  # type: ignore  # noqa: F401
            tracker = moe_logging.get_moe_metrics_tracker()
            if getattr(tracker, "_moe_telemetry_patched", False):
                self._tracker_patched = tracker
                self.tracker_active = True
                return
            orig_report = tracker.report
            orig_clear = tracker.clear
            state = {"in_report": False, "names": None, "snap": None}

            def read():
                names = state["names"]
                return {k: e.values.detach().float().cpu().tolist() for k, e in tracker.metrics.items()
                        if k in LOSS_NAMES and (names is None or k in names)}

            def report(*a, **k):
                tn = k.get("track_names")
                state["names"] = None if tn is None else ({tn} if isinstance(tn, str) else set(tn))
                state["in_report"], state["snap"] = True, None
                try:
                    out = orig_report(*a, **k)
                    try:
                        snap = state["snap"] if state["snap"] is not None else read()
                    except Exception as e:
                        snap = None
                        self.counters.inc("hook_errors")
                        self._rl(logging.WARNING, "tracker", "moe_telemetry: reading Megatron's tracker failed: %r", e)
                finally:
                    state["in_report"], state["snap"] = False, None
                if snap is not None:
                    self._on_reported(snap)
                return out

            def clear():
                if state["in_report"] and state["snap"] is None:
                    try:
                        state["snap"] = read()  # reduced by report(), about to be zeroed
                    except Exception as e:
                        self.counters.inc("hook_errors")
                        self._rl(logging.WARNING, "tracker", "moe_telemetry: reading Megatron's tracker failed: %r", e)
                return orig_clear()

            tracker.report = report
            tracker.clear = clear
            tracker._moe_telemetry_patched = True
            self._tracker_patched = tracker
            self.tracker_active = True
            return
        except Exception:
            pass
        try:  # core_r0.9 .. r0.15: dict tracker in parallel_state; track_moe_metrics reduces, logs, then clears
            from megatron.core import parallel_state as ps  # type: ignore
            from megatron.core.transformer.moe import moe_utils  # type: ignore

            orig = getattr(moe_utils, "clear_aux_losses_tracker", None)
            getter = getattr(ps, "get_moe_layer_wise_logging_tracker", None)
            if orig is None or getter is None:
                return
            if getattr(orig, "_moe_telemetry_wrapped", False):
                self.tracker_active = True
                return

            def clear_aux_losses_tracker(*a, **k):
                # Only the clear inside track_moe_metrics (training_log) follows a report.
                caller = sys._getframe(1).f_code.co_name
                if caller == "track_moe_metrics":
                    try:
                        self._on_reported({n: d["values"].detach().float().cpu().tolist()
                                           for n, d in getter().items() if n in LOSS_NAMES})
                    except Exception as e:
                        self.counters.inc("hook_errors")
                        self._rl(logging.WARNING, "tracker", "moe_telemetry: reading Megatron's tracker failed: %r", e)
                return orig(*a, **k)

            clear_aux_losses_tracker._moe_telemetry_wrapped = True
            moe_utils.clear_aux_losses_tracker = clear_aux_losses_tracker
            self.tracker_active = True
        except Exception:
            pass

    def _on_reported(self, snapshot: dict) -> None:
        cb = self.on_tracker_report
        if cb is not None and cb(snapshot):
            return
        self._tracker_snapshot = snapshot  # training_log ran before step(): the next collect() uses it

    def _read_tracker(self):
        """{loss name: [per-layer values, index layer-1]} that Megatron reported since the last step, or {}.

        Never the tracker's live values: before report() they are this rank's unreduced partial sums."""
        snap = self._tracker_snapshot
        self._tracker_snapshot = None
        if not self.tracker_active and "megatron.core" in sys.modules:
            self._maybe_patch_tracker()
        return snap or {}

    # ------------------------------------------------------------------ losses fed by the user

    def record_loss(self, layer: int, name: str, value) -> None:
        st = self.state(int(layer))
        if torch is not None and isinstance(value, torch.Tensor):
            value = value.detach()
        prev = st.losses.get(name)
        st.losses[name] = value if prev is None else prev + value
        st.loss_n[name] = st.loss_n.get(name, 0) + 1

    # ------------------------------------------------------------------ end of step

    def collect(self) -> list:
        """Per-layer dicts for the step that just ended; resets the accumulators.

        Sets `tracker_pending` when Megatron's tracker is hooked but has not reported this step yet (the
        caller then waits for on_tracker_report). All device tensors of all layers are stacked and copied
        to the host in one transfer."""
        tracker = self._read_tracker()
        self.tracker_pending = self.tracker_active and not tracker
        layers = sorted(self.layers)
        out = []
        dev_tensors = []
        plan = []
        for ln in layers:
            st = self.layers[ln]
            if st.counts is None and not st.losses:
                st.reset()
                continue
            item = {"layer": ln, "micro_batches": st.micro_batches, "tokens": st.tokens, "num_experts": st.num_experts}
            for key in ("counts", "before", "received"):
                t = getattr(st, key)
                if t is not None:
                    plan.append((item, key, len(dev_tensors)))
                    dev_tensors.append(t)
            if st.dropped is not None:
                plan.append((item, "dropped", len(dev_tensors)))
                dev_tensors.append(st.dropped.reshape(1))
            losses = {}
            for name, v in st.losses.items():
                n = st.loss_n.get(name, 1) or 1
                if torch is not None and isinstance(v, torch.Tensor):
                    plan.append((item, "loss:" + name + ":" + str(n), len(dev_tensors)))
                    dev_tensors.append(v.reshape(1).to(torch.float64))
                else:
                    losses[name] = float(v) / n
            for name, v in tracker_losses(tracker, ln, st.micro_batches).items():
                losses.setdefault(name, v)
            item["losses"] = losses
            out.append(item)
            st.reset()
        if dev_tensors:
            host = _to_host(dev_tensors)
            for item, key, i in plan:
                v = host[i]
                if key == "dropped":
                    item["dropped"] = int(v[0])
                elif key.startswith("loss:"):
                    _, name, n = key.split(":")
                    item["losses"][name] = float(v[0]) / int(n)
                else:
                    item[key] = v
        return out


def tracker_losses(snapshot: dict, layer: int, micro_batches: int) -> Dict[str, float]:
    """tracker_losses: one layer's values from a Megatron tracker snapshot, as Megatron logs them.

    Megatron logs values * (1 / num_microbatches); the per-layer value was summed over the step's
    micro-batches, which is what the hooks counted. A 0.0 is a layer this tracker did not record."""
    out = {}
    if micro_batches <= 0:
        return out
    for name, vals in (snapshot or {}).items():
        if name in LOSS_NAMES and 0 < layer <= len(vals) and vals[layer - 1] != 0.0:
            out[name] = float(vals[layer - 1]) / micro_batches
    return out


def _patch_token_dropping(mod) -> None:
    """Wrap `apply_router_token_dropping` in the module that defines the router class (Megatron:
    megatron.core.transformer.moe.router imports it from moe_utils and calls it by global name) to
    see the routing map before capacity dropping. Installed once per process; it only records while a
    hooked router's forward is running on this thread (armed by the router's forward pre-hook)."""
    name = "apply_router_token_dropping"
    orig = getattr(mod, name, None) if mod is not None else None
    if orig is None or getattr(orig, "_moe_telemetry_wrapped", False):
        return

    def wrapped(routing_probs, routing_map, *args, **kwargs):
        probs, final_map = orig(routing_probs, routing_map, *args, **kwargs)
        if getattr(_tls, "armed", False):
            try:
                if torch.is_grad_enabled() and routing_map.dtype == torch.bool:
                    before = routing_map.sum(0)
                    kept = torch.logical_and(routing_map, final_map).sum()
                    _tls.predrop = (before, before.sum() - kept)
            except Exception:
                _tls.predrop = None
        return probs, final_map

    wrapped._moe_telemetry_wrapped = True
    wrapped.__wrapped__ = orig
    setattr(mod, name, wrapped)


def _to_host(tensors):
    """Copy a list of small 1-D tensors to host lists: one device->host transfer per (device, kind)."""
    groups = {}
    for i, t in enumerate(tensors):
        kind = "f" if t.is_floating_point() else "i"
        groups.setdefault((t.device, kind), []).append(i)
    res = [None] * len(tensors)
    for (dev, kind), idxs in groups.items():
        dt = torch.float64 if kind == "f" else torch.int64
        parts = [tensors[i].reshape(-1).to(dt) for i in idxs]
        flat = (torch.cat(parts) if len(parts) > 1 else parts[0]).cpu().tolist()
        off = 0
        for i, p in zip(idxs, parts):
            n = p.numel()
            res[i] = flat[off:off + n]
            off += n
    return res


class _BackwardMark:
    """Gradient hook on the router probs: remembers which layer backward has reached (for OOM reports)."""

    __slots__ = ("inst", "layer")

    def __init__(self, inst, layer):
        self.inst = inst
        self.layer = layer

    def __call__(self, grad):
        self.inst.last_backward_layer = self.layer
        return None
