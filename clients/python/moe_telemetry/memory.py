"""torch.cuda.memory_stats() -> MemorySample fields (all zeros without CUDA)."""
from __future__ import annotations

KEYS = {
    "allocated_bytes": "allocated_bytes.all.current",
    "reserved_bytes": "reserved_bytes.all.current",
    "peak_allocated_bytes": "allocated_bytes.all.peak",
    "num_ooms": "num_ooms",
    "num_alloc_retries": "num_alloc_retries",
}


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available() and torch.cuda.is_initialized())
    except Exception:
        return False


def memory_dict(device=None) -> dict | None:
    """The five MemorySample values, or None when CUDA is absent/uninitialized.

    Note: allocated_bytes.all.peak is the peak since process start or since the user last called
    torch.cuda.reset_peak_memory_stats(); the client never resets it (that would change what the
    training script itself sees)."""
    if not cuda_available():
        return None
    try:
        import torch

        st = torch.cuda.memory_stats(device)
        return {k: int(st.get(v, 0)) for k, v in KEYS.items()}
    except Exception:
        return None


def fill_memory_sample(msg, mem: dict | None) -> None:
    if not mem:
        return
    for k, v in mem.items():
        setattr(msg, k, max(0, int(v)))
