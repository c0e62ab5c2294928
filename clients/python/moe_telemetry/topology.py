"""Rank identity and coordinates in Megatron's two meshes, from megatron.core.parallel_state.

Attention side tp x cp x dp x pp; expert side (MoE parallel folding) etp x ep x edp x pp.
Function names checked against Megatron-LM main (megatron/core/parallel_state.py):
get_tensor_model_parallel_rank, get_context_parallel_rank, get_data_parallel_rank,
get_pipeline_model_parallel_rank, get_expert_model_parallel_rank, get_expert_tensor_parallel_rank,
get_expert_data_parallel_rank. Older releases (core_r0.8) lack the expert-TP/expert-DP getters:
there expert TP == TP, and the expert-DP rank was get_data_modulo_expert_parallel_rank.
"""
from __future__ import annotations

import os
import socket

COORD_FIELDS = ("tp", "cp", "dp", "pp", "vpp", "ep", "etp", "edp")

# field -> candidate getter names, first that exists wins
_GETTERS = {
    "tp": ("get_tensor_model_parallel_rank",),
    "cp": ("get_context_parallel_rank",),
    "dp": ("get_data_parallel_rank",),
    "pp": ("get_pipeline_model_parallel_rank",),
    "ep": ("get_expert_model_parallel_rank",),
    "etp": ("get_expert_tensor_parallel_rank", "get_tensor_model_parallel_rank"),
    "edp": ("get_expert_data_parallel_rank", "get_data_modulo_expert_parallel_rank"),
}


def _env_int(*names):
    for n in names:
        v = os.environ.get(n)
        if v not in (None, ""):
            try:
                return int(v)
            except ValueError:
                pass
    return None


def _dist():
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist
    except Exception:
        pass
    return None


def global_rank() -> int:
    d = _dist()
    if d is not None:
        try:
            return int(d.get_rank())
        except Exception:
            pass
    r = _env_int("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK")
    return r if r is not None else 0


def world_size() -> int | None:
    d = _dist()
    if d is not None:
        try:
            return int(d.get_world_size())
        except Exception:
            pass
    return _env_int("WORLD_SIZE", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def gpus_per_node() -> int | None:
    v = _env_int("LOCAL_WORLD_SIZE", "SLURM_NTASKS_PER_NODE", "OMPI_COMM_WORLD_LOCAL_SIZE")
    if v is not None:
        return v
    try:
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.device_count())
    except Exception:
        pass
    return None


def gpu_memory_bytes() -> int | None:
    try:
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory)
    except Exception:
        pass
    return None


def device_string() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            i = torch.cuda.current_device()
            return "cuda:%d %s" % (i, torch.cuda.get_device_name(i))
    except Exception:
        pass
    return "cpu"


def hostname() -> str:
    try:
        return socket.gethostname()
    except Exception:
        return ""


def megatron_coords() -> dict | None:
    """Coordinates from megatron.core.parallel_state, or None when it is absent or not initialized.

    vpp is left unset: a rank hosts all of its virtual pipeline chunks, and
    get_virtual_pipeline_model_parallel_rank() only names the chunk running right now; the global
    layer_number in each LayerReport already identifies the chunk.
    """
    try:
        from megatron.core import parallel_state as ps  # type: ignore
    except Exception:
        return None
    try:
        init_fn = getattr(ps, "model_parallel_is_initialized", None)
        if init_fn is not None and not init_fn():
            return None
    except Exception:
        return None
    out = {}
    for field, names in _GETTERS.items():
        for n in names:
            fn = getattr(ps, n, None)
            if fn is None:
                continue
            try:
                v = fn()
            except Exception:
                continue
            if v is not None:
                out[field] = int(v)
                break
    return out or None


def resolve_coords(coords: dict | None) -> dict:
    """Explicit coords win field by field over parallel_state; missing fields default to 0."""
    base = megatron_coords() or {}
    if coords:
        for k, v in dict(coords).items():
            if k not in COORD_FIELDS:
                raise ValueError("unknown coordinate %r (expected one of %s)" % (k, ", ".join(COORD_FIELDS)))
            if v is not None:
                base[k] = int(v)
    return base
