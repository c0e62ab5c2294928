"""Megatron `args` (argparse.Namespace) or a dict with Megatron's argument names -> RunConfig.

Field names in RunConfig are Megatron's own argument names (arguments.py, dashes -> underscores),
so most of the mapping is by name. Everything else that is set (not None) goes to `extra` as text.
"""
from __future__ import annotations

import argparse
import re
import sys
from typing import Any, Mapping

from ._stubs import pb

UINT_FIELDS = (
    "num_layers", "hidden_size", "seq_length", "micro_batch_size", "global_batch_size",
    "num_experts", "moe_router_topk",
    "tensor_model_parallel_size", "pipeline_model_parallel_size", "context_parallel_size",
    "expert_model_parallel_size",
)
OPT_UINT_FIELDS = (
    "moe_ffn_hidden_size", "moe_shared_expert_intermediate_size",
    "num_layers_per_virtual_pipeline_stage", "expert_tensor_parallel_size",
)
OPT_DOUBLE_FIELDS = ("moe_aux_loss_coeff", "moe_z_loss_coeff", "moe_expert_capacity_factor")
BOOL_FIELDS = (
    "moe_pad_expert_input_to_capacity", "moe_grouped_gemm", "moe_router_enable_expert_bias",
    "moe_layer_recompute", "sequence_parallel", "disable_bias_linear", "bf16", "fp16",
)
STR_FIELDS = ("moe_token_dispatcher_type", "moe_token_drop_policy", "recompute_granularity")
SPECIAL = ("moe_router_load_balancing_type", "moe_layer_freq", "recompute_modules", "fp8")
KNOWN = set(UINT_FIELDS + OPT_UINT_FIELDS + OPT_DOUBLE_FIELDS + BOOL_FIELDS + STR_FIELDS + SPECIAL)

# Arguments never sent in `extra` (not configuration, or potentially secret / huge).
_EXTRA_SKIP = {"rank", "local_rank", "world_size"}
_SECRET_RE = re.compile(r"(^|_)(token|password|passwd|secret|api_key|apikey|credentials?|auth)$")
MAX_EXTRA_VALUE = 1024


def args_to_dict(args: Any) -> dict:
    if args is None:
        return {}
    if isinstance(args, Mapping):
        d = dict(args)
    elif isinstance(args, argparse.Namespace) or hasattr(args, "__dict__"):
        d = dict(vars(args))
    else:
        raise TypeError("args must be Megatron's argparse.Namespace or a dict, got %r" % type(args))
    # Accept dashed names too (a pasted command line turned into a dict).
    return {str(k).lstrip("-").replace("-", "_"): v for k, v in d.items()}


def _first(v):
    if isinstance(v, (list, tuple)):
        return v[0] if v else None
    return v


def _text(v) -> str:
    if isinstance(v, (list, tuple)):
        return repr(list(v))
    return str(v)


def build_run_config(args: Any) -> "pb.RunConfig":
    d = args_to_dict(args)
    cfg = pb.RunConfig()
    extra: dict[str, str] = {}

    for f in UINT_FIELDS:
        v = d.get(f)
        if v is not None:
            try:
                setattr(cfg, f, max(0, int(v)))
            except (TypeError, ValueError):
                extra[f] = _text(v)
    for f in OPT_UINT_FIELDS:
        v = d.get(f)
        if v is not None:
            try:
                setattr(cfg, f, max(0, int(v)))
            except (TypeError, ValueError):
                extra[f] = _text(v)
    for f in OPT_DOUBLE_FIELDS:
        v = d.get(f)
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            # Newer Megatron accepts one coefficient per load-balancing type: keep the full list in
            # `extra` and the first value (the one paired with the first type) in the field.
            extra[f] = _text(v)
            v = _first(v)
            if v is None:
                continue
        try:
            setattr(cfg, f, float(v))
        except (TypeError, ValueError):
            extra[f] = _text(v)
    for f in BOOL_FIELDS:
        v = d.get(f)
        if v is not None:
            setattr(cfg, f, bool(v))
    for f in STR_FIELDS:
        v = d.get(f)
        if v is not None:
            setattr(cfg, f, str(v))

    lb = d.get("moe_router_load_balancing_type")
    if lb is not None:
        cfg.moe_router_load_balancing_type = ",".join(map(str, lb)) if isinstance(lb, (list, tuple)) else str(lb)
    freq = d.get("moe_layer_freq")
    if freq is not None:
        # Megatron turns "([0]+[1]*23)" into a list; a Python list literal is a valid expression.
        cfg.moe_layer_freq = repr(list(freq)) if isinstance(freq, (list, tuple)) else str(freq)
    rm = d.get("recompute_modules")
    if rm:
        if isinstance(rm, str):
            rm = [rm]
        cfg.recompute_modules.extend(str(m) for m in rm)
    fp8 = d.get("fp8")
    if fp8:
        cfg.fp8 = str(fp8) if not isinstance(fp8, bool) else "e4m3"

    for k, v in d.items():
        if k in KNOWN or k in _EXTRA_SKIP or v is None or k.startswith("_"):
            continue
        if _SECRET_RE.search(k.lower()):
            continue
        if isinstance(v, (bool, int, float, str)) or (
            isinstance(v, (list, tuple)) and all(isinstance(x, (bool, int, float, str)) for x in v)
        ) or isinstance(v, dict):
            s = _text(v)
        else:
            # objects (dtypes, enums, paths) -> their text, but never something huge
            s = str(v)
        if len(s) > MAX_EXTRA_VALUE:
            s = s[: MAX_EXTRA_VALUE - 3] + "..."
        extra[k] = s
    for k, v in extra.items():
        cfg.extra[k] = v
    return cfg


def command_line() -> list:
    return [str(a) for a in sys.argv[1:]]


def framework_info() -> tuple:
    """(framework, version): megatron-core when importable, else pytorch."""
    try:
        from megatron.core import package_info  # type: ignore

        return "megatron-core", str(getattr(package_info, "__version__", ""))
    except Exception:
        pass
    try:
        import torch

        return "pytorch", str(torch.__version__)
    except Exception:
        return "python", sys.version.split()[0]
