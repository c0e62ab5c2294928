"""moe_telemetry: the training-rank client of the MoE training telemetry collector.

    import moe_telemetry
    session = moe_telemetry.init(collector="host:50051", run_key="job-1234", args=args)
    session.attach(model)            # hooks every MoE router (Megatron TopKRouter or duck-typed)
    for it in ...:
        with session.guard_step(it): # reports an OOM before re-raising it
            train_step(...)
        session.step(it)             # one Batch per iteration: counts, losses, memory, timing
"""
from .session import (  # noqa: F401
    CLIENT_NAME,
    NullSession,
    Session,
    __version__,
    classify_frames,
    init,
    is_oom_error,
    requested_bytes,
)

__all__ = ["init", "Session", "NullSession", "is_oom_error", "requested_bytes", "__version__"]
