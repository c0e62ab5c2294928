from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Ack(_message.Message):
    __slots__ = ["durable_seq"]
    DURABLE_SEQ_FIELD_NUMBER: _ClassVar[int]
    durable_seq: int
    def __init__(self, durable_seq: _Optional[int] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ["dropped_batches", "layers", "scalars", "seq", "steps"]
    DROPPED_BATCHES_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    dropped_batches: int
    layers: _containers.RepeatedCompositeFieldContainer[LayerReport]
    scalars: _containers.RepeatedCompositeFieldContainer[ScalarPoint]
    seq: int
    steps: _containers.RepeatedCompositeFieldContainer[StepSample]
    def __init__(self, seq: _Optional[int] = ..., layers: _Optional[_Iterable[_Union[LayerReport, _Mapping]]] = ..., steps: _Optional[_Iterable[_Union[StepSample, _Mapping]]] = ..., dropped_batches: _Optional[int] = ..., scalars: _Optional[_Iterable[_Union[ScalarPoint, _Mapping]]] = ...) -> None: ...

class BatchResult(_message.Message):
    __slots__ = ["accepted", "rejected", "seq"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: _containers.RepeatedCompositeFieldContainer[Rejection]
    seq: int
    def __init__(self, seq: _Optional[int] = ..., accepted: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...

class ClientMessage(_message.Message):
    __slots__ = ["batch", "hello"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    hello: RankHello
    def __init__(self, hello: _Optional[_Union[RankHello, _Mapping]] = ..., batch: _Optional[_Union[Batch, _Mapping]] = ...) -> None: ...

class EventAck(_message.Message):
    __slots__ = ["event_id"]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class LayerReport(_message.Message):
    __slots__ = ["dropped", "global_load_balancing_loss", "layer", "load_balancing_loss", "micro_batches", "received_per_local_expert", "seq_load_balancing_loss", "step", "tokens", "tokens_per_expert", "tokens_per_expert_before_drop", "z_loss"]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_LOAD_BALANCING_LOSS_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    LOAD_BALANCING_LOSS_FIELD_NUMBER: _ClassVar[int]
    MICRO_BATCHES_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_PER_LOCAL_EXPERT_FIELD_NUMBER: _ClassVar[int]
    SEQ_LOAD_BALANCING_LOSS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_EXPERT_BEFORE_DROP_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_EXPERT_FIELD_NUMBER: _ClassVar[int]
    Z_LOSS_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    global_load_balancing_loss: float
    layer: int
    load_balancing_loss: float
    micro_batches: int
    received_per_local_expert: _containers.RepeatedScalarFieldContainer[int]
    seq_load_balancing_loss: float
    step: int
    tokens: int
    tokens_per_expert: _containers.RepeatedScalarFieldContainer[int]
    tokens_per_expert_before_drop: _containers.RepeatedScalarFieldContainer[int]
    z_loss: float
    def __init__(self, step: _Optional[int] = ..., layer: _Optional[int] = ..., micro_batches: _Optional[int] = ..., tokens: _Optional[int] = ..., tokens_per_expert: _Optional[_Iterable[int]] = ..., tokens_per_expert_before_drop: _Optional[_Iterable[int]] = ..., received_per_local_expert: _Optional[_Iterable[int]] = ..., dropped: _Optional[int] = ..., load_balancing_loss: _Optional[float] = ..., seq_load_balancing_loss: _Optional[float] = ..., global_load_balancing_loss: _Optional[float] = ..., z_loss: _Optional[float] = ...) -> None: ...

class MemorySample(_message.Message):
    __slots__ = ["allocated_bytes", "num_alloc_retries", "num_ooms", "peak_allocated_bytes", "reserved_bytes"]
    ALLOCATED_BYTES_FIELD_NUMBER: _ClassVar[int]
    NUM_ALLOC_RETRIES_FIELD_NUMBER: _ClassVar[int]
    NUM_OOMS_FIELD_NUMBER: _ClassVar[int]
    PEAK_ALLOCATED_BYTES_FIELD_NUMBER: _ClassVar[int]
    RESERVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    allocated_bytes: int
    num_alloc_retries: int
    num_ooms: int
    peak_allocated_bytes: int
    reserved_bytes: int
    def __init__(self, allocated_bytes: _Optional[int] = ..., reserved_bytes: _Optional[int] = ..., peak_allocated_bytes: _Optional[int] = ..., num_ooms: _Optional[int] = ..., num_alloc_retries: _Optional[int] = ...) -> None: ...

class OomReport(_message.Message):
    __slots__ = ["layer", "memory", "message", "phase", "rank", "requested_bytes", "run_key", "step", "wall_time_ms"]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    layer: int
    memory: MemorySample
    message: str
    phase: str
    rank: int
    requested_bytes: int
    run_key: str
    step: int
    wall_time_ms: float
    def __init__(self, run_key: _Optional[str] = ..., rank: _Optional[int] = ..., step: _Optional[int] = ..., phase: _Optional[str] = ..., layer: _Optional[int] = ..., message: _Optional[str] = ..., memory: _Optional[_Union[MemorySample, _Mapping]] = ..., wall_time_ms: _Optional[float] = ..., requested_bytes: _Optional[int] = ...) -> None: ...

class RankCoords(_message.Message):
    __slots__ = ["cp", "dp", "edp", "ep", "etp", "pp", "tp", "vpp"]
    CP_FIELD_NUMBER: _ClassVar[int]
    DP_FIELD_NUMBER: _ClassVar[int]
    EDP_FIELD_NUMBER: _ClassVar[int]
    EP_FIELD_NUMBER: _ClassVar[int]
    ETP_FIELD_NUMBER: _ClassVar[int]
    PP_FIELD_NUMBER: _ClassVar[int]
    TP_FIELD_NUMBER: _ClassVar[int]
    VPP_FIELD_NUMBER: _ClassVar[int]
    cp: int
    dp: int
    edp: int
    ep: int
    etp: int
    pp: int
    tp: int
    vpp: int
    def __init__(self, tp: _Optional[int] = ..., cp: _Optional[int] = ..., dp: _Optional[int] = ..., pp: _Optional[int] = ..., vpp: _Optional[int] = ..., ep: _Optional[int] = ..., etp: _Optional[int] = ..., edp: _Optional[int] = ...) -> None: ...

class RankHello(_message.Message):
    __slots__ = ["client", "client_instance", "coords", "device", "host", "rank", "run_key"]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    COORDS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    client: str
    client_instance: str
    coords: RankCoords
    device: str
    host: str
    rank: int
    run_key: str
    def __init__(self, run_key: _Optional[str] = ..., rank: _Optional[int] = ..., host: _Optional[str] = ..., device: _Optional[str] = ..., coords: _Optional[_Union[RankCoords, _Mapping]] = ..., client: _Optional[str] = ..., client_instance: _Optional[str] = ...) -> None: ...

class RegisterRunRequest(_message.Message):
    __slots__ = ["command_line", "config", "framework", "framework_version", "gpu_memory_bytes", "gpus_per_node", "name", "run_key", "simulated", "world_size"]
    COMMAND_LINE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    GPUS_PER_NODE_FIELD_NUMBER: _ClassVar[int]
    GPU_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    SIMULATED_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    command_line: _containers.RepeatedScalarFieldContainer[str]
    config: RunConfig
    framework: str
    framework_version: str
    gpu_memory_bytes: int
    gpus_per_node: int
    name: str
    run_key: str
    simulated: bool
    world_size: int
    def __init__(self, run_key: _Optional[str] = ..., name: _Optional[str] = ..., config: _Optional[_Union[RunConfig, _Mapping]] = ..., world_size: _Optional[int] = ..., gpus_per_node: _Optional[int] = ..., gpu_memory_bytes: _Optional[int] = ..., framework: _Optional[str] = ..., framework_version: _Optional[str] = ..., simulated: bool = ..., command_line: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterRunResponse(_message.Message):
    __slots__ = ["created", "moe_layers", "run_id"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    MOE_LAYERS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    created: bool
    moe_layers: _containers.RepeatedScalarFieldContainer[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ..., created: bool = ..., moe_layers: _Optional[_Iterable[int]] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ["code", "field", "reason"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    code: str
    field: str
    reason: str
    def __init__(self, code: _Optional[str] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RunConfig(_message.Message):
    __slots__ = ["bf16", "context_parallel_size", "disable_bias_linear", "expert_model_parallel_size", "expert_tensor_parallel_size", "extra", "fp16", "fp8", "global_batch_size", "hidden_size", "micro_batch_size", "moe_aux_loss_coeff", "moe_expert_capacity_factor", "moe_ffn_hidden_size", "moe_grouped_gemm", "moe_layer_freq", "moe_layer_recompute", "moe_pad_expert_input_to_capacity", "moe_router_enable_expert_bias", "moe_router_load_balancing_type", "moe_router_topk", "moe_shared_expert_intermediate_size", "moe_token_dispatcher_type", "moe_token_drop_policy", "moe_z_loss_coeff", "num_experts", "num_layers", "num_layers_per_virtual_pipeline_stage", "pipeline_model_parallel_size", "recompute_granularity", "recompute_modules", "seq_length", "sequence_parallel", "tensor_model_parallel_size"]
    class ExtraEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BF16_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_PARALLEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    DISABLE_BIAS_LINEAR_FIELD_NUMBER: _ClassVar[int]
    EXPERT_MODEL_PARALLEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXPERT_TENSOR_PARALLEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    FP16_FIELD_NUMBER: _ClassVar[int]
    FP8_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MICRO_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MOE_AUX_LOSS_COEFF_FIELD_NUMBER: _ClassVar[int]
    MOE_EXPERT_CAPACITY_FACTOR_FIELD_NUMBER: _ClassVar[int]
    MOE_FFN_HIDDEN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MOE_GROUPED_GEMM_FIELD_NUMBER: _ClassVar[int]
    MOE_LAYER_FREQ_FIELD_NUMBER: _ClassVar[int]
    MOE_LAYER_RECOMPUTE_FIELD_NUMBER: _ClassVar[int]
    MOE_PAD_EXPERT_INPUT_TO_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    MOE_ROUTER_ENABLE_EXPERT_BIAS_FIELD_NUMBER: _ClassVar[int]
    MOE_ROUTER_LOAD_BALANCING_TYPE_FIELD_NUMBER: _ClassVar[int]
    MOE_ROUTER_TOPK_FIELD_NUMBER: _ClassVar[int]
    MOE_SHARED_EXPERT_INTERMEDIATE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MOE_TOKEN_DISPATCHER_TYPE_FIELD_NUMBER: _ClassVar[int]
    MOE_TOKEN_DROP_POLICY_FIELD_NUMBER: _ClassVar[int]
    MOE_Z_LOSS_COEFF_FIELD_NUMBER: _ClassVar[int]
    NUM_EXPERTS_FIELD_NUMBER: _ClassVar[int]
    NUM_LAYERS_FIELD_NUMBER: _ClassVar[int]
    NUM_LAYERS_PER_VIRTUAL_PIPELINE_STAGE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_MODEL_PARALLEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    RECOMPUTE_GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    RECOMPUTE_MODULES_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_PARALLEL_FIELD_NUMBER: _ClassVar[int]
    SEQ_LENGTH_FIELD_NUMBER: _ClassVar[int]
    TENSOR_MODEL_PARALLEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    bf16: bool
    context_parallel_size: int
    disable_bias_linear: bool
    expert_model_parallel_size: int
    expert_tensor_parallel_size: int
    extra: _containers.ScalarMap[str, str]
    fp16: bool
    fp8: str
    global_batch_size: int
    hidden_size: int
    micro_batch_size: int
    moe_aux_loss_coeff: float
    moe_expert_capacity_factor: float
    moe_ffn_hidden_size: int
    moe_grouped_gemm: bool
    moe_layer_freq: str
    moe_layer_recompute: bool
    moe_pad_expert_input_to_capacity: bool
    moe_router_enable_expert_bias: bool
    moe_router_load_balancing_type: str
    moe_router_topk: int
    moe_shared_expert_intermediate_size: int
    moe_token_dispatcher_type: str
    moe_token_drop_policy: str
    moe_z_loss_coeff: float
    num_experts: int
    num_layers: int
    num_layers_per_virtual_pipeline_stage: int
    pipeline_model_parallel_size: int
    recompute_granularity: str
    recompute_modules: _containers.RepeatedScalarFieldContainer[str]
    seq_length: int
    sequence_parallel: bool
    tensor_model_parallel_size: int
    def __init__(self, num_layers: _Optional[int] = ..., hidden_size: _Optional[int] = ..., seq_length: _Optional[int] = ..., micro_batch_size: _Optional[int] = ..., global_batch_size: _Optional[int] = ..., num_experts: _Optional[int] = ..., moe_router_topk: _Optional[int] = ..., moe_router_load_balancing_type: _Optional[str] = ..., moe_aux_loss_coeff: _Optional[float] = ..., moe_z_loss_coeff: _Optional[float] = ..., moe_token_dispatcher_type: _Optional[str] = ..., moe_expert_capacity_factor: _Optional[float] = ..., moe_pad_expert_input_to_capacity: bool = ..., moe_token_drop_policy: _Optional[str] = ..., moe_layer_freq: _Optional[str] = ..., moe_ffn_hidden_size: _Optional[int] = ..., moe_shared_expert_intermediate_size: _Optional[int] = ..., moe_grouped_gemm: bool = ..., moe_router_enable_expert_bias: bool = ..., moe_layer_recompute: bool = ..., recompute_granularity: _Optional[str] = ..., recompute_modules: _Optional[_Iterable[str]] = ..., tensor_model_parallel_size: _Optional[int] = ..., pipeline_model_parallel_size: _Optional[int] = ..., num_layers_per_virtual_pipeline_stage: _Optional[int] = ..., context_parallel_size: _Optional[int] = ..., expert_model_parallel_size: _Optional[int] = ..., expert_tensor_parallel_size: _Optional[int] = ..., sequence_parallel: bool = ..., disable_bias_linear: bool = ..., bf16: bool = ..., fp16: bool = ..., fp8: _Optional[str] = ..., extra: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RunEvent(_message.Message):
    __slots__ = ["kind", "message", "rank", "run_key", "step", "wall_time_ms"]
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    CRASH: RunEvent.Kind
    FINISHED: RunEvent.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    KIND_UNSPECIFIED: RunEvent.Kind
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    kind: RunEvent.Kind
    message: str
    rank: int
    run_key: str
    step: int
    wall_time_ms: float
    def __init__(self, run_key: _Optional[str] = ..., rank: _Optional[int] = ..., kind: _Optional[_Union[RunEvent.Kind, str]] = ..., step: _Optional[int] = ..., message: _Optional[str] = ..., wall_time_ms: _Optional[float] = ...) -> None: ...

class ScalarPoint(_message.Message):
    __slots__ = ["layer", "name", "step", "value"]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    layer: int
    name: str
    step: int
    value: float
    def __init__(self, step: _Optional[int] = ..., name: _Optional[str] = ..., layer: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...

class ServerMessage(_message.Message):
    __slots__ = ["ack", "conflicts", "result", "welcome"]
    ACK_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    ack: Ack
    conflicts: BatchResult
    result: BatchResult
    welcome: Welcome
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., result: _Optional[_Union[BatchResult, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., conflicts: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class StepSample(_message.Message):
    __slots__ = ["iteration_time_ms", "lm_loss", "memory", "step", "wall_time_ms"]
    ITERATION_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LM_LOSS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    iteration_time_ms: float
    lm_loss: float
    memory: MemorySample
    step: int
    wall_time_ms: float
    def __init__(self, step: _Optional[int] = ..., iteration_time_ms: _Optional[float] = ..., lm_loss: _Optional[float] = ..., memory: _Optional[_Union[MemorySample, _Mapping]] = ..., wall_time_ms: _Optional[float] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ["durable_seq", "moe_layers", "num_experts", "run_id"]
    DURABLE_SEQ_FIELD_NUMBER: _ClassVar[int]
    MOE_LAYERS_FIELD_NUMBER: _ClassVar[int]
    NUM_EXPERTS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    durable_seq: int
    moe_layers: _containers.RepeatedScalarFieldContainer[int]
    num_experts: int
    run_id: str
    def __init__(self, run_id: _Optional[str] = ..., durable_seq: _Optional[int] = ..., num_experts: _Optional[int] = ..., moe_layers: _Optional[_Iterable[int]] = ...) -> None: ...

class WriteRequest(_message.Message):
    __slots__ = ["batch", "hello"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    hello: RankHello
    def __init__(self, hello: _Optional[_Union[RankHello, _Mapping]] = ..., batch: _Optional[_Union[Batch, _Mapping]] = ...) -> None: ...

class WriteResponse(_message.Message):
    __slots__ = ["accepted", "durable_seq"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DURABLE_SEQ_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    durable_seq: int
    def __init__(self, durable_seq: _Optional[int] = ..., accepted: _Optional[int] = ...) -> None: ...
