/**
 * A first-order GPU memory model of one Megatron MoE rank, used to make simulated memory samples move with
 * routing imbalance. Bytes, not fractions; the simulator may rescale the activation part (see createSimulation).
 *
 * Static (held all iteration, what torch reports as "allocated" between iterations):
 *   bf16 weights (2 B/param) + fp32 main-grad buffer (4 B/param) + distributed-optimizer state
 *   (fp32 master + Adam m, v = 12 B/param) sharded over DP x CP for dense params and over EDP for expert params.
 *   Dense params per layer: GQA attention (q, o: h^2 each; k, v: h * h/4 with 8 query groups) / TP, router h*E.
 *   Expert params per MoE layer: (E / EP) experts x 3 * h * ffn (SwiGLU fc1 is 2*ffn wide) / ETP.
 *   Embedding on the first stage, untied output layer on the last (vocab 32000, Mixtral), / TP.
 * Activations (held between a micro-batch's forward and backward, flash attention, no recompute):
 *   per layer and routed token: ~20 h bytes for attention block, norms and router (tokens already / TP with SP, / CP);
 *   per expert assignment received: 6h + 6 ffn/ETP bytes (fc1 input, fc1 output, SwiGLU output, dispatch and
 *   combine buffers); dense MLP layers: 2h + 6 ffn bytes per token; last stage: fp32 logits and their grad.
 *   In-flight micro-batches on pipeline stage p (1F1B, megatron/core/pipeline_parallel/schedules.py):
 *   min(m, PP - p); interleaved with v chunks: min(m v, (PP - p - 1) * 2 + (v - 1) * PP + 1) chunk-micro-batches,
 *   i.e. that / v per layer.
 */

/** MemoryModelInput: the resolved sizes the memory model needs. */
export interface MemoryModelInput {
  numLayers: number;
  hiddenSize: number;
  ffnHiddenSize: number;
  numExperts: number;
  vocabSize: number;
  tp: number;
  cp: number;
  pp: number;
  ep: number;
  etp: number;
  dp: number;
  edp: number;
  vpp?: number;
  microBatches: number;
  /** Tokens one rank routes per micro-batch (seq * mbs / (CP * TP-if-SP)). */
  tokensPerMicroBatch: number;
  /** Per stage, the global layer numbers held and which of them are MoE. */
  stageLayers: number[][];
  isMoe: (layer: number) => boolean;
}

/** StageMemory: one pipeline stage's memory terms. */
export interface StageMemory {
  staticBytes: number;
  /** Activation bytes that do not depend on routing (attention, norms, router, dense MLPs, logits). */
  fixedActivationBytes: number;
  /** Effective micro-batches whose activations a layer holds at the peak. */
  inflightMicroBatches: number;
  /** Activation bytes per expert assignment received in one micro-batch of one layer. */
  bytesPerAssignment: number;
}

/** memoryModel: static and activation terms for each pipeline stage. */
export function memoryModel(x: MemoryModelInput): StageMemory[] {
  const h = x.hiddenSize;
  const ffn = x.ffnHiddenSize;
  const attnParams = (2 * h * h + 2 * h * (h / 4)) / x.tp;
  const routerParams = h * x.numExperts;
  const expertParamsPerLayer = ((x.numExperts / x.ep) * 3 * h * ffn) / x.etp;
  const denseMlpParams = (3 * h * ffn) / x.tp;
  const embeddingParams = (x.vocabSize * h) / x.tp;
  const bytesPerAssignment = 6 * h + (6 * ffn) / x.etp;
  const tokens = x.tokensPerMicroBatch;

  return x.stageLayers.map((layers, p) => {
    let dense = 0;
    let expert = 0;
    let denseMlpLayers = 0;
    for (const l of layers) {
      dense += attnParams;
      if (x.isMoe(l)) {
        dense += routerParams;
        expert += expertParamsPerLayer;
      } else {
        dense += denseMlpParams;
        denseMlpLayers++;
      }
    }
    if (p === 0) dense += embeddingParams;
    if (p === x.pp - 1) dense += embeddingParams;
    const staticBytes = 6 * (dense + expert) + (12 * dense) / (x.dp * x.cp) + (12 * expert) / x.edp;

    const m = x.microBatches;
    const v = x.vpp && x.vpp > 1 ? x.vpp : 1;
    const inflight =
      v === 1 ? Math.min(m, x.pp - p) : Math.min(m * v, (x.pp - p - 1) * 2 + (v - 1) * x.pp + 1) / v;
    let fixed = inflight * tokens * (layers.length * 20 * h + denseMlpLayers * (2 * h + 6 * ffn));
    if (p === x.pp - 1) fixed += tokens * (x.vocabSize / x.tp) * 4 * 2;
    return { staticBytes, fixedActivationBytes: fixed, inflightMicroBatches: inflight, bytesPerAssignment };
  });
}
