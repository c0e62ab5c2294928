/**
 * A deterministic, pure model of a Megatron-Core MoE training run, used by `moe-telemetry simulate` and by tests.
 * Everything it produces is simulated and must be labelled so by the caller. Same options and seed, same numbers:
 * all randomness is keyed by (seed, step, rank, layer) through hashSeed; no Math.random, no clock.
 *
 * What is modelled, and where it comes from:
 *  - Rank layout: megatron/core/parallel_state.py RankGenerator, default order "tp-cp-ep-dp-pp" (see rankLayout.ts).
 *  - MoE layers: --moe-layer-freq as in gpt_layer_specs.py (see moeLayerPattern.ts, a local minimal reader).
 *  - Layers per pipeline stage (with VPP): get_transformer_layer_offset in transformer_layer.py.
 *  - Tokens a rank routes per step, T_local = m * seq * mbs / (CP * (SP ? TP : 1)), m = gbs / (mbs * DP):
 *    the router runs on the sequence-parallel shard (each TP rank its own seq/TP slice; MoE with TP > 1
 *    requires SP) and each CP rank holds seq/CP tokens; counts are summed over the m micro-batches.
 *  - Router: per MoE layer a vector of per-expert mean logits that drifts with the scenario; per rank a small
 *    data-dependent perturbation. Selection frequencies pi = capped proportional inclusion of softmax(b) with
 *    sum k (routerSampling.ts); mean router probabilities P = softmax(0.9 b) (top-k selection is sharper than the
 *    average softmax). Both are approximations of a token-level router, chosen to be cheap and monotone.
 *  - load_balancing_loss as Megatron logs it: switch_load_balancing_loss_func (moe_utils.py) divided by
 *    moe_aux_loss_coeff (router.py attach_and_log_load_balancing_loss records aux_loss / coeff), with
 *    probs summed over the tp_cp group's tokens and tokens_per_expert all-reduced over the tp_cp group
 *    (get_tokens_per_expert_and_token_count), total_num_tokens = T_local * |tp_cp|:
 *      E / (k T^2) * sum_e P_e c_e = (E / k) * sum_e Pbar_e * c_e / T,   1.0 at balance, <= E/k.
 *    Reported per rank as its tp_cp group's value, averaged over micro-batches, before the DP average that
 *    Megatron's tracker applies when it prints. Computed on counts before capacity dropping.
 *  - z_loss as logged: z_loss_func (moe_utils.py) = mean over tokens of logsumexp(logits)^2 times the coefficient,
 *    recorded divided by it (router.py apply_z_loss). The mean logit offset starts high (~3.5 log-sum-exp,
 *    z ~ 12) and decays (z ~ 7), rising with imbalance because logsumexp grows with the logit spread.
 *  - Memory: memoryModel.ts; tokens received by the EP rank (DESIGN "EP-rank load", from dispatched counts)
 *    drive the expert activations, so the hot EP rank's peak rises with imbalance.
 *  - Iteration time: FLOPs at ~400 TFLOP/s per GPU, pipeline bubble (PP-1)/(m v), the expert share scaled by
 *    the slowest EP rank (max over dispatch groups of received / group mean), slow first iterations.
 *  - lm loss: only on last-stage ranks (where Megatron computes it), decaying from ~11.5 like real logs
 *    (fixtures/megatron-logs: 11.56 at iteration 20, 4.36 at 1080).
 *
 * Scenarios: "balanced" (near-uniform router from the start); "early-imbalance" (one or two hot experts per
 * layer, different per layer, some layers worse, relaxing exponentially after ~30% of min(steps, 500) steps);
 * "oom" (a stronger, growing collapse concentrated on one EP rank of the most memory-loaded stage, calibrated
 * so that rank's demand crosses the GPU's usable memory near a target step in 140-205, or 50-75% of `steps` for
 * short runs; a capacity factor that caps the hot rank's tokens prevents it). The OOM rank gets an OomEvent; every rank reports that step's routing (observed in forward,
 * flushed on failure) but no step sample, and the run produces nothing afterwards.
 */
import type { LayerReport, OomEvent, RankInfo, RunConfig, StepSample } from "../analysis/types";
import { cudaOomMessage } from "./cudaOomMessage";
import { dropOverCapacity, expertCapacity } from "./expertCapacity";
import { memoryModel, type StageMemory } from "./memoryModel";
import { parseMoeLayerFreq } from "../analysis/parseMoeLayerFreq";
import { pipelineLayout } from "../analysis/pipelineLayout";
import { rankCoordinates } from "../analysis/rankCoordinates";
import { Rng, hashSeed, smoothNoise } from "./rng";
import { sampleExpertCounts, softmaxInto, topkInclusion } from "./routerSampling";

/** Scenario: which training story the simulator tells. */
export type Scenario = "early-imbalance" | "balanced" | "oom";

/** SCENARIOS: every Scenario, for CLI choices and validation. */
export const SCENARIOS: readonly Scenario[] = ["early-imbalance", "balanced", "oom"];

/** SimulationOptions: the run to simulate; parallel sizes use Megatron's meanings (vpp = virtual pipeline size). */
export interface SimulationOptions {
  ranks: number;
  steps: number;
  scenario: Scenario;
  seed?: number;
  numExperts?: number;
  topk?: number;
  numLayers?: number;
  ep?: number;
  pp?: number;
  tp?: number;
  cp?: number;
  etp?: number;
  vpp?: number;
  moeLayerFreq?: string;
  seqLength?: number;
  microBatchSize?: number;
  globalBatchSize?: number;
  gpusPerNode?: number;
  gpuMemoryBytes?: number;
  hiddenSize?: number;
  capacityFactor?: number;
}

/** SimStep: one training iteration as every rank would report it. */
export interface SimStep {
  step: number;
  /** rank -> that rank's MoE layer reports (its pipeline stage's MoE layers). */
  layers: Map<number, LayerReport[]>;
  samples: Map<number, StepSample>;
  oom?: OomEvent;
}

/** Simulation: a simulated run's registration data and its steps. */
export interface Simulation {
  config: RunConfig;
  worldSize: number;
  gpusPerNode: number;
  gpuMemoryBytes: number;
  ranks: RankInfo[];
  /** 1-based global layer numbers that are MoE. */
  moeLayers: number[];
  /** layersOfRank: the MoE layers held by this rank's pipeline stage (all its virtual chunks). */
  layersOfRank(rank: number): number[];
  /** step: the data of iteration `step` (1-based); deterministic for (options, seed, step). */
  step(step: number): SimStep;
}

const GiB = 1024 ** 3;
const VOCAB = 32000;
/** CUDA context and NCCL buffers: memory the process uses outside PyTorch's allocator. */
const NON_TORCH_BYTES = 1.25 * GiB;
const ACHIEVED_FLOPS = 4.0e14;

/** createSimulation: validates the options and returns a deterministic simulated run. */
export function createSimulation(opts: SimulationOptions): Simulation {
  const o = resolveOptions(opts);
  const { world, E, k, L, tp, cp, pp, ep, etp, dp, edp, m, seed } = o;
  const sp = tp > 1;
  const tokensPerMb = (o.seqLength * o.microBatchSize) / (cp * (sp ? tp : 1));
  const tokensLocal = m * tokensPerMb;
  const expertsPerRank = E / ep;
  const epOfExpert = Int32Array.from({ length: E }, (_, e) => Math.floor(e / expertsPerRank));
  const slotOfExpert = Int32Array.from({ length: E }, (_, e) => e % expertsPerRank);
  const capacity = o.capacityFactor === undefined ? undefined : expertCapacity(tokensPerMb, k, E, o.capacityFactor);

  let pattern: boolean[];
  try {
    pattern = parseMoeLayerFreq(o.moeLayerFreq, L);
  } catch (err) {
    throw new Error(`moeLayerFreq: ${err instanceof Error ? err.message : String(err)}`);
  }
  const moeLayers = pattern.flatMap((isMoe, i) => (isMoe ? [i + 1] : []));
  if (moeLayers.length === 0) throw new Error("moeLayerFreq: the pattern has no MoE layer");
  const isMoe = (layer: number) => pattern[layer - 1] === true;
  const ffn = Math.max(128, Math.round((3.5 * o.hiddenSize) / 128) * 128);
  const config = buildConfig(o, ffn, sp);
  // The same layer-to-stage and rank-to-coordinates rules as the analysis core (Megatron's).
  const layout = pipelineLayout(config);
  const allStageLayers = Array.from({ length: pp }, (_, p) =>
    layout.chunks
      .filter((c) => c.pp === p)
      .sort((a, b) => a.vpp - b.vpp)
      .flatMap((c) => Array.from({ length: c.numLayers }, (_, i) => c.firstLayer + i)),
  );
  const stageMoe = allStageLayers.map((ls) => ls.filter(isMoe));

  const ranks: RankInfo[] = Array.from({ length: world }, (_, r) => ({
    rank: r,
    host: `sim-node-${Math.floor(r / o.gpusPerNode)}`,
    device: `sim:${r % o.gpusPerNode}`,
    coords: rankCoordinates(r, { tp, cp, dp, pp, ep, etp, edp }),
  }));

  // Dispatch groups (same edp, pp; members ordered by ep then etp) and tp_cp groups (same dp, pp).
  const dispatchGroups = groupBy(ranks, (ri) => ri.coords.pp * edp + ri.coords.edp);
  const tpCpGroups = groupBy(ranks, (ri) => ri.coords.pp * dp + ri.coords.dp);
  const dispatchGroupOf = new Int32Array(world);
  dispatchGroups.forEach((g, gi) => g.forEach((r) => (dispatchGroupOf[r] = gi)));

  // ---- memory calibration -------------------------------------------------------------------------------
  const stages = memoryModel({
    numLayers: L,
    hiddenSize: o.hiddenSize,
    ffnHiddenSize: ffn,
    numExperts: E,
    vocabSize: VOCAB,
    tp,
    cp,
    pp,
    ep,
    etp,
    dp,
    edp,
    vpp: o.vpp,
    microBatches: m,
    tokensPerMicroBatch: tokensPerMb,
    stageLayers: allStageLayers,
    isMoe,
  });
  const usable = o.gpuMemoryBytes - NON_TORCH_BYTES;
  // At balance an EP rank receives T_mb * k * ETP assignments per layer and micro-batch (ETP x EP sources, 1/EP each).
  const balancedRecvPerMb = tokensPerMb * k * etp;
  const expertActAtBalance = (p: number) =>
    stages[p].inflightMicroBatches * stageMoe[p].length * balancedRecvPerMb * stages[p].bytesPerAssignment;
  let staticScale = 1;
  let actScale = 1;
  const maxStatic = Math.max(...stages.map((s) => s.staticBytes));
  if (maxStatic > 0.45 * usable) staticScale = (0.45 * usable) / maxStatic;
  const balancedDemand = (p: number) =>
    staticScale * stages[p].staticBytes + actScale * (stages[p].fixedActivationBytes + expertActAtBalance(p));
  let hotStage = 0;
  for (let p = 1; p < pp; p++) if (balancedDemand(p) > balancedDemand(hotStage)) hotStage = p;
  // A user would not launch a run that does not fit when balanced: keep the balanced peak at or below 74%.
  {
    const s = stages[hotStage];
    const act = s.fixedActivationBytes + expertActAtBalance(hotStage);
    if (balancedDemand(hotStage) > 0.74 * usable && act > 0) {
      actScale = Math.max(0.02, (0.74 * usable - staticScale * s.staticBytes) / act);
    }
  }

  // ---- router profiles ----------------------------------------------------------------------------------
  const scenario = o.scenario;
  const horizon = Math.min(500, Math.max(30, o.steps));
  const setupRng = new Rng(hashSeed(seed, 0x51a7));
  const victimEp = setupRng.int(ep);
  const victimStage = hotStage;
  let oomTarget = 0;
  if (scenario === "oom") {
    if (ep < 2) throw new Error("ep: the oom scenario needs ep >= 2 (the OOM comes from EP-rank imbalance)");
    if (o.steps < 3) throw new Error("steps: the oom scenario needs steps >= 3");
    oomTarget =
      o.steps >= 280 ? 140 + setupRng.int(66) : Math.max(2, Math.round(o.steps * (0.5 + 0.25 * setupRng.uniform())));
  }
  const oomForceStep = Math.min(o.steps, oomTarget + Math.max(2, Math.ceil(0.05 * oomTarget)));
  const oomPhase = setupRng.uniform() < 0.7 ? "forward" : "backward";

  const profiles = new Map<number, Float64Array>();
  const relaxAt = new Map<number, number>();
  for (let ps = 0; ps < pp; ps++) {
    let prevHotEp = -1;
    for (const layer of stageMoe[ps]) {
      const rng = new Rng(hashSeed(seed, layer, 0xb1a5));
      // Neighbouring layers of a stage often favour experts on the same EP rank (half the time here), which is
      // what lets imbalance add up in one rank's activation memory; the oom scenario pins it to the victim.
      let hotEp = rng.uniform() < 0.5 && prevHotEp >= 0 ? prevHotEp : rng.int(ep);
      if (scenario === "oom" && ps === victimStage) hotEp = victimEp;
      prevHotEp = hotEp;
      const strong = scenario === "oom" && ps === victimStage;
      profiles.set(layer, routerProfile(rng, E, k, hotEp * expertsPerRank + rng.int(expertsPerRank), strong));
      relaxAt.set(layer, 0.3 * horizon * (0.75 + 0.5 * rng.uniform()));
    }
  }

  // Expected tokens received by EP rank `epRank` of stage `ps` over the stage's MoE layers, relative to the group mean,
  // when every layer's bias is `amplitude` times its profile (no noise).
  const expectedEpRatio = (ps: number, epRank: number, amplitude: number): number => {
    const p = new Float64Array(E);
    const pi = new Float64Array(E);
    const logits = new Float64Array(E);
    let hosted = 0;
    for (const layer of stageMoe[ps]) {
      const prof = profiles.get(layer)!;
      for (let e = 0; e < E; e++) logits[e] = amplitude * prof[e];
      softmaxInto(p, logits);
      topkInclusion(pi, p, k);
      for (let j = 0; j < expertsPerRank; j++) hosted += pi[epRank * expertsPerRank + j];
    }
    return stageMoe[ps].length === 0 ? 1 : hosted / (stageMoe[ps].length * (k / ep));
  };
  const expectedVictimRatio = (amplitude: number) => expectedEpRatio(victimStage, victimEp, amplitude);

  if (scenario === "early-imbalance") {
    // The early-imbalance story is "close to the edge, survives": keep the expected hottest EP rank at <= 92%.
    let worstDemand = 0;
    let worst = { ps: 0, rho: 1 };
    for (let ps = 0; ps < pp; ps++) {
      for (let epRank = 0; epRank < ep; epRank++) {
        const rho = expectedEpRatio(ps, epRank, 1);
        const s = stages[ps];
        const d = staticScale * s.staticBytes + actScale * (s.fixedActivationBytes + expertActAtBalance(ps) * rho);
        if (d > worstDemand) {
          worstDemand = d;
          worst = { ps, rho };
        }
      }
    }
    const limit = 0.92 * o.gpuMemoryBytes;
    if (worstDemand > limit) {
      const s = stages[worst.ps];
      actScale = Math.max(0.02, (limit - staticScale * s.staticBytes) / (s.fixedActivationBytes + expertActAtBalance(worst.ps) * worst.rho));
    }
  }

  let oomAmplitude = 1;
  if (scenario === "oom") {
    const s = stages[victimStage];
    const sStatic = staticScale * s.staticBytes;
    const xBal = expertActAtBalance(victimStage);
    const target = 1.015 * usable;
    const rhoMax = expectedVictimRatio(6);
    if (stageMoe[victimStage].length === 0 || rhoMax < 1.2) {
      throw new Error("ep: the oom scenario cannot create enough EP-rank imbalance with this expert layout");
    }
    // The collapse should be clearly stronger than early-imbalance: aim the victim at 2.4x-3x the group mean
    // (what the memory would need naturally, within that band and within what the layout can reach), and
    // rescale the activations so that this ratio is the one that no longer fits.
    let rho = (target - sStatic - actScale * s.fixedActivationBytes) / (actScale * xBal);
    const rhoCap = Math.min(3.0, 1 + 0.85 * (rhoMax - 1));
    const rhoFloor = Math.min(2.4, rhoCap);
    if (!(rho >= rhoFloor && rho <= rhoCap)) {
      rho = Math.min(rhoCap, Math.max(rhoFloor, Number.isFinite(rho) ? rho : rhoFloor));
      actScale = (target - sStatic) / (s.fixedActivationBytes + xBal * rho);
    }
    let lo = 0;
    let hi = 6;
    for (let i = 0; i < 50; i++) {
      const mid = (lo + hi) / 2;
      if (expectedVictimRatio(mid) < rho) lo = mid;
      else hi = mid;
    }
    oomAmplitude = hi;
  }

  const victimLayers = new Set(stageMoe[victimStage]);
  const envelope = (layer: number, t: number): number => {
    if (scenario === "balanced") return 0.05;
    const ramp = 0.85 + 0.15 * Math.min(1, t / (0.1 * horizon));
    if (scenario === "oom") {
      // The victim stage grows towards the calibrated collapse; other stages stay at a strong, unrelaxed imbalance.
      if (!victimLayers.has(layer)) return 1.15 * ramp;
      const x = Math.min(t / oomTarget, 1.5);
      return oomAmplitude * (0.75 + 0.25 * x * x);
    }
    const start = relaxAt.get(layer)!;
    const core = t <= start ? ramp : Math.exp(-(t - start) / (0.12 * horizon));
    return 0.04 + 0.96 * core;
  };

  // ---- per-step computation -----------------------------------------------------------------------------
  const flopsPerToken =
    6 *
      (L * 2.5 * o.hiddenSize * o.hiddenSize +
        moeLayers.length * (k * 3 * o.hiddenSize * ffn + o.hiddenSize * E) +
        (L - moeLayers.length) * 3 * o.hiddenSize * ffn +
        VOCAB * o.hiddenSize) +
    6 * o.seqLength * o.hiddenSize * L;
  const expertFlopShare = (6 * moeLayers.length * k * 3 * o.hiddenSize * ffn) / flopsPerToken;
  const vppSize = o.vpp && o.vpp > 1 ? o.vpp : 1;
  const baseIterMs =
    ((o.globalBatchSize * o.seqLength * flopsPerToken) / (world * ACHIEVED_FLOPS)) * 1000 * (1 + (pp - 1) / (m * vppSize));

  const retriesAfter: Int32Array[] = [new Int32Array(world)];
  let computedUpTo = 0;
  let oomStep: number | undefined;

  const computeStep = (t: number): SimStep => {
    const prevRetries = retriesAfter[t - 1];
    const layerLogits = new Map<number, Float64Array>();
    for (const layer of moeLayers) {
      const prof = profiles.get(layer)!;
      const env = envelope(layer, t);
      const jitter = new Rng(hashSeed(seed, t, layer, 0x7a11));
      const b = new Float64Array(E);
      for (let e = 0; e < E; e++) {
        b[e] = env * prof[e] + 0.05 * smoothNoise(seed, layer, e, t, 12) + 0.02 * jitter.normal();
      }
      layerLogits.set(layer, b);
    }
    const lseBase = 2.6 + 0.9 * Math.exp(-t / (0.4 * horizon)) - Math.log(E);

    // Pass 1: per rank and layer, routing counts and router statistics.
    const before: Int32Array[] = new Array(world);
    const dispatched: Int32Array[] = new Array(world);
    const pbar: Float64Array[] = new Array(world);
    const zLoss: Float64Array[] = new Array(world);
    const dropped: Int32Array[] = new Array(world);
    const p = new Float64Array(E);
    const pi = new Float64Array(E);
    const br = new Float64Array(E);
    const counts = new Int32Array(E);
    for (let r = 0; r < world; r++) {
      const layers = stageMoe[ranks[r].coords.pp];
      const nl = layers.length;
      const bef = new Int32Array(nl * E);
      const disp = o.capacityFactor === undefined ? bef : new Int32Array(nl * E);
      const pb = new Float64Array(nl * E);
      const zl = new Float64Array(nl);
      const dr = new Int32Array(nl);
      for (let li = 0; li < nl; li++) {
        const rng = new Rng(hashSeed(seed, t, r, layers[li], 0xc0de));
        const b = layerLogits.get(layers[li])!;
        for (let e = 0; e < E; e++) br[e] = b[e] + 0.03 * rng.jitter();
        const lse = softmaxInto(p, br);
        topkInclusion(pi, p, k);
        sampleExpertCounts(counts, pi, tokensLocal, k, rng);
        bef.set(counts, li * E);
        const pview = pb.subarray(li * E, (li + 1) * E);
        softmaxInto(pview, br, 0.9);
        const lseTok = lseBase + lse + 0.01 * rng.normal();
        zl[li] = lseTok * lseTok + 0.25;
        if (capacity !== undefined) dr[li] = dropOverCapacity(disp, bef, li * E, E, pi, capacity, m);
      }
      before[r] = bef;
      pbar[r] = pb;
      zLoss[r] = zl;
      dropped[r] = dr;
      dispatched[r] = disp;
    }

    // Pass 2: received per EP rank (per dispatch group) and the aux loss per tp_cp group.
    const received: Float64Array[] = new Array(world); // per rank: [li * epl + j]
    const recvTotal: Float64Array[] = new Array(world); // per rank: [li]
    const worstRatioPerLayer = new Map<number, number>();
    for (const g of dispatchGroups) {
      const pStage = ranks[g[0]].coords.pp;
      const layers = stageMoe[pStage];
      const nl = layers.length;
      const perEp = new Float64Array(ep * nl * expertsPerRank);
      for (const s of g) {
        const d = dispatched[s];
        for (let li = 0; li < nl; li++) {
          for (let e = 0; e < E; e++) perEp[(epOfExpert[e] * nl + li) * expertsPerRank + slotOfExpert[e]] += d[li * E + e];
        }
      }
      for (let li = 0; li < nl; li++) {
        let sum = 0;
        let max = 0;
        for (let epr = 0; epr < ep; epr++) {
          let tot = 0;
          for (let j = 0; j < expertsPerRank; j++) tot += perEp[(epr * nl + li) * expertsPerRank + j];
          sum += tot;
          max = Math.max(max, tot);
        }
        const ratio = sum > 0 ? max / (sum / ep) : 1;
        worstRatioPerLayer.set(layers[li], Math.max(worstRatioPerLayer.get(layers[li]) ?? 0, ratio));
      }
      for (const r of g) {
        const epr = ranks[r].coords.ep;
        const rec = new Float64Array(nl * expertsPerRank);
        const tot = new Float64Array(nl);
        for (let li = 0; li < nl; li++) {
          for (let j = 0; j < expertsPerRank; j++) {
            const v = perEp[(epr * nl + li) * expertsPerRank + j];
            rec[li * expertsPerRank + j] = v;
            tot[li] += v;
          }
        }
        received[r] = rec;
        recvTotal[r] = tot;
      }
    }
    const auxLoss: Float64Array[] = new Array(world);
    for (const g of tpCpGroups) {
      const nl = stageMoe[ranks[g[0]].coords.pp].length;
      const aux = new Float64Array(nl);
      const tGroup = tokensLocal * g.length;
      for (let li = 0; li < nl; li++) {
        let acc = 0;
        for (let e = 0; e < E; e++) {
          let c = 0;
          let pm = 0;
          for (const s of g) {
            c += before[s][li * E + e];
            pm += pbar[s][li * E + e];
          }
          acc += (pm / g.length) * (c / tGroup);
        }
        aux[li] = (E / k) * acc;
      }
      for (const r of g) auxLoss[r] = aux;
    }

    // Memory demand per rank.
    const demand = new Float64Array(world);
    for (let r = 0; r < world; r++) {
      const ps = ranks[r].coords.pp;
      const s: StageMemory = stages[ps];
      let recv = 0;
      for (const v of recvTotal[r]) recv += v;
      const act = s.fixedActivationBytes + (s.inflightMicroBatches * recv * s.bytesPerAssignment) / m;
      const noise = new Rng(hashSeed(seed, t, r, 0x3e3)).normal();
      demand[r] = (staticScale * s.staticBytes + actScale * act) * (1 + 0.002 * noise);
    }

    // OOM?
    let oom: OomEvent | undefined;
    if (scenario === "oom" && t <= oomForceStep) {
      let worst = 0;
      for (let r = 1; r < world; r++) if (demand[r] > demand[worst]) worst = r;
      // Past the target step, noise alone must not save a run that is within 5% of the limit; a run whose
      // layout or capacity factor keeps it further away (a mitigation) survives.
      if (demand[worst] >= usable || (t === oomForceStep && demand[worst] >= 0.95 * usable)) {
        oom = buildOom(t, worst);
      }
    }

    const layersOut = new Map<number, LayerReport[]>();
    for (let r = 0; r < world; r++) {
      const layers = stageMoe[ranks[r].coords.pp];
      const reports: LayerReport[] = layers.map((layer, li) => {
        const disp = slice(dispatched[r], li * E, E);
        const rep: LayerReport = {
          step: t,
          layer,
          microBatches: m,
          tokens: tokensLocal,
          tokensPerExpert: disp,
          receivedPerLocalExpert: slice(received[r], li * expertsPerRank, expertsPerRank),
          losses: { load_balancing_loss: auxLoss[r][li], z_loss: zLoss[r][li] },
        };
        if (o.capacityFactor !== undefined) {
          rep.tokensPerExpertBeforeDrop = slice(before[r], li * E, E);
          rep.dropped = dropped[r][li];
        }
        return rep;
      });
      layersOut.set(r, reports);
    }

    const retries = new Int32Array(world);
    const samples = new Map<number, StepSample>();
    let loadFactor = 0;
    for (const layer of moeLayers) loadFactor += worstRatioPerLayer.get(layer) ?? 1;
    loadFactor /= moeLayers.length;
    const stepRng = new Rng(hashSeed(seed, t, 0x17e7));
    const warm = t === 1 ? 3.2 : t === 2 ? 1.5 : t === 3 ? 1.1 : 1;
    const iterMs = baseIterMs * (1 + 0.6 * expertFlopShare * (loadFactor - 1)) * warm * (1 + 0.015 * stepRng.normal());
    const u = (t * t) / (t + 60);
    const lmBase = 3.9 + 7.7 * Math.exp(-u / 300) + 0.02 * (loadFactor - 1) + 0.02 * stepRng.normal();
    for (let r = 0; r < world; r++) {
      const s = stages[ranks[r].coords.pp];
      const rng = new Rng(hashSeed(seed, t, r, 0x5a3b));
      const peak = Math.min(demand[r], 0.985 * usable);
      const reserved = Math.max(peak, Math.min(usable, roundUp(peak * (1.02 + 0.02 * rng.uniform()), 2 * 1024 * 1024)));
      const allocated = staticScale * s.staticBytes * (1 + 0.004 * Math.abs(rng.normal())) + 0.01 * (demand[r] - staticScale * s.staticBytes);
      const frac = peak / o.gpuMemoryBytes;
      retries[r] = prevRetries[r] + (frac > 0.9 ? 1 + Math.floor((frac - 0.9) * 60) : 0);
      if (oom) continue; // the iteration never completed: no step samples at the OOM step
      const sample: StepSample = {
        step: t,
        iterationTimeMs: iterMs * (1 + 0.001 * rng.normal()),
        memory: {
          allocatedBytes: Math.round(Math.min(allocated, peak)),
          reservedBytes: Math.round(reserved),
          peakAllocatedBytes: Math.round(peak),
          numOoms: 0,
          numAllocRetries: retries[r],
        },
      };
      if (ranks[r].coords.pp === pp - 1) sample.lmLoss = lmBase + 0.03 * rng.normal();
      samples.set(r, sample);
    }
    if (oom) retries[oom.rank] = oom.memory!.numAllocRetries;
    if (t === computedUpTo + 1) {
      retriesAfter[t] = retries;
      computedUpTo = t;
      if (oom) oomStep = t;
    }
    return { step: t, layers: layersOut, samples, ...(oom ? { oom } : {}) };

    function buildOom(step: number, rank: number): OomEvent {
      const ri = ranks[rank];
      const layers = stageMoe[ri.coords.pp];
      const g = dispatchGroups[dispatchGroupOf[rank]];
      // The layer where this rank's EP rank is most overloaded relative to its dispatch group.
      let bestLi = 0;
      let bestRatio = -1;
      for (let li = 0; li < layers.length; li++) {
        let sum = 0;
        for (const s of g) if (ranks[s].coords.etp === 0) sum += recvTotal[s][li];
        const ratio = sum > 0 ? recvTotal[rank][li] / (sum / ep) : 0;
        if (ratio > bestRatio) {
          bestRatio = ratio;
          bestLi = li;
        }
      }
      const rng = new Rng(hashSeed(seed, step, rank, 0x00f));
      const recvPerMb = recvTotal[rank][bestLi] / m;
      const requested = roundUp(recvPerMb * ((2 * ffn) / etp) * 2, 2 * 1024 * 1024);
      const total = o.gpuMemoryBytes;
      const free = roundUp(requested * (0.1 + 0.6 * rng.uniform()), 2 * 1024 * 1024);
      const reserved = total - NON_TORCH_BYTES - free;
      const reservedUnallocated = Math.min(0.04 * reserved, requested * (0.2 + 0.5 * rng.uniform()));
      const allocated = reserved - reservedUnallocated;
      const memory = {
        allocatedBytes: Math.round(allocated),
        reservedBytes: Math.round(reserved),
        peakAllocatedBytes: Math.round(allocated),
        numOoms: 1,
        numAllocRetries: prevRetries[rank] + 1,
      };
      return {
        rank,
        step,
        phase: oomPhase,
        layer: layers[bestLi],
        requestedBytes: requested,
        memory,
        message: cudaOomMessage({
          device: rank % o.gpusPerNode,
          requestedBytes: requested,
          totalBytes: total,
          freeBytes: free,
          processBytes: total - free,
          allocatedBytes: allocated,
          reservedUnallocatedBytes: reservedUnallocated,
        }),
      };
    }
  };

  const empty = (t: number): SimStep => ({ step: t, layers: new Map(), samples: new Map() });

  return {
    config,
    worldSize: world,
    gpusPerNode: o.gpusPerNode,
    gpuMemoryBytes: o.gpuMemoryBytes,
    ranks,
    moeLayers,
    layersOfRank(rank: number): number[] {
      if (!Number.isInteger(rank) || rank < 0 || rank >= world) throw new Error(`rank: must be in [0, ${world}), got ${rank}`);
      return [...stageMoe[ranks[rank].coords.pp]];
    },
    step(t: number): SimStep {
      if (!Number.isInteger(t) || t < 1) throw new Error(`step: must be an integer >= 1, got ${t}`);
      // Cumulative counters (num_alloc_retries) and the OOM cut-off need the steps before t: run them once, in order.
      while (computedUpTo < t - 1 && oomStep === undefined) computeStep(computedUpTo + 1);
      if (oomStep !== undefined && t > oomStep) return empty(t);
      return computeStep(t);
    },
  };
}

// ---- helpers ----------------------------------------------------------------------------------------------

interface Resolved {
  world: number;
  steps: number;
  scenario: Scenario;
  seed: number;
  E: number;
  k: number;
  L: number;
  ep: number;
  pp: number;
  tp: number;
  cp: number;
  etp: number;
  etpGiven: boolean;
  vpp?: number;
  moeLayerFreq?: string;
  seqLength: number;
  microBatchSize: number;
  globalBatchSize: number;
  gpusPerNode: number;
  gpuMemoryBytes: number;
  hiddenSize: number;
  capacityFactor?: number;
  dp: number;
  edp: number;
  m: number;
}

function positiveInt(name: string, v: unknown, fallback?: number): number {
  const x = v === undefined ? fallback : v;
  if (typeof x !== "number" || !Number.isInteger(x) || x < 1) {
    throw new Error(`${name}: must be a positive integer, got ${String(v)}`);
  }
  return x;
}

function resolveOptions(opts: SimulationOptions): Resolved {
  const world = positiveInt("ranks", opts.ranks);
  const steps = positiveInt("steps", opts.steps);
  if (!SCENARIOS.includes(opts.scenario)) {
    throw new Error(`scenario: must be one of ${SCENARIOS.join(", ")}, got ${String(opts.scenario)}`);
  }
  if (opts.seed !== undefined && (typeof opts.seed !== "number" || !Number.isFinite(opts.seed))) {
    throw new Error(`seed: must be a finite number, got ${String(opts.seed)}`);
  }
  const seed = (opts.seed ?? 42) >>> 0;
  const E = positiveInt("numExperts", opts.numExperts, 8);
  const k = positiveInt("topk", opts.topk, 2);
  if (k > E) throw new Error(`topk: must be <= numExperts (${E}), got ${k}`);
  const L = positiveInt("numLayers", opts.numLayers, 32);
  const ep = positiveInt("ep", opts.ep, 8);
  const pp = positiveInt("pp", opts.pp, 4);
  const tp = positiveInt("tp", opts.tp, 1);
  const cp = positiveInt("cp", opts.cp, 1);
  const etp = positiveInt("etp", opts.etp, tp);
  if (L % pp !== 0) throw new Error(`numLayers: must be divisible by pp (${pp}), got ${L}`);
  if (world % (tp * pp * cp) !== 0) {
    throw new Error(`ranks: must be divisible by tp*pp*cp = ${tp * pp * cp}, got ${world}`);
  }
  if (world % (etp * ep * pp) !== 0) {
    throw new Error(`ranks: must be divisible by etp*ep*pp = ${etp * ep * pp} (MoE parallel folding), got ${world}`);
  }
  if (E % ep !== 0) throw new Error(`numExperts: must be divisible by ep (${ep}), got ${E}`);
  let vpp: number | undefined;
  if (opts.vpp !== undefined) {
    vpp = positiveInt("vpp", opts.vpp);
    if (vpp > 1 && pp < 2) throw new Error("vpp: virtual pipeline parallelism needs pp >= 2");
    if ((L / pp) % vpp !== 0) throw new Error(`vpp: must divide numLayers/pp = ${L / pp}, got ${vpp}`);
  }
  const hiddenSize = positiveInt("hiddenSize", opts.hiddenSize, 4096);
  if (hiddenSize % (128 * tp) !== 0) {
    throw new Error(`hiddenSize: must be a multiple of 128*tp = ${128 * tp} (128-wide heads split over TP), got ${hiddenSize}`);
  }
  const seqLength = positiveInt("seqLength", opts.seqLength, 4096);
  const seqDivisor = tp * cp * (cp > 1 ? 2 : 1);
  if (seqLength % seqDivisor !== 0) {
    throw new Error(`seqLength: must be divisible by ${seqDivisor} (sequence parallel over TP, 2*CP chunks), got ${seqLength}`);
  }
  const microBatchSize = positiveInt("microBatchSize", opts.microBatchSize, 1);
  const dp = world / (tp * pp * cp);
  const edp = world / (etp * ep * pp);
  const globalBatchSize = positiveInt("globalBatchSize", opts.globalBatchSize, 16 * microBatchSize * dp);
  if (globalBatchSize % (microBatchSize * dp) !== 0) {
    throw new Error(
      `globalBatchSize: must be divisible by microBatchSize*dp = ${microBatchSize * dp}, got ${globalBatchSize}`,
    );
  }
  const gpusPerNode = positiveInt("gpusPerNode", opts.gpusPerNode, 8);
  const gpuMemoryBytes = opts.gpuMemoryBytes ?? 80 * GiB;
  if (typeof gpuMemoryBytes !== "number" || !(gpuMemoryBytes >= 4 * GiB)) {
    throw new Error(`gpuMemoryBytes: must be at least 4 GiB, got ${String(opts.gpuMemoryBytes)}`);
  }
  if (opts.capacityFactor !== undefined && !(typeof opts.capacityFactor === "number" && opts.capacityFactor > 0)) {
    throw new Error(`capacityFactor: must be > 0, got ${String(opts.capacityFactor)}`);
  }
  return {
    world,
    steps,
    scenario: opts.scenario,
    seed,
    E,
    k,
    L,
    ep,
    pp,
    tp,
    cp,
    etp,
    etpGiven: opts.etp !== undefined,
    vpp,
    moeLayerFreq: opts.moeLayerFreq,
    seqLength,
    microBatchSize,
    globalBatchSize,
    gpusPerNode,
    gpuMemoryBytes,
    hiddenSize,
    capacityFactor: opts.capacityFactor,
    dp,
    edp,
    m: globalBatchSize / (microBatchSize * dp),
  };
}

function buildConfig(o: Resolved, ffn: number, sp: boolean): RunConfig {
  const config: RunConfig = {
    num_layers: o.L,
    hidden_size: o.hiddenSize,
    seq_length: o.seqLength,
    micro_batch_size: o.microBatchSize,
    global_batch_size: o.globalBatchSize,
    num_experts: o.E,
    moe_router_topk: o.k,
    moe_router_load_balancing_type: "aux_loss",
    moe_aux_loss_coeff: 1e-2,
    moe_z_loss_coeff: 1e-3,
    moe_token_dispatcher_type: "alltoall",
    moe_layer_freq: o.moeLayerFreq ?? "1",
    moe_ffn_hidden_size: ffn,
    moe_grouped_gemm: o.E / o.ep > 1,
    tensor_model_parallel_size: o.tp,
    pipeline_model_parallel_size: o.pp,
    context_parallel_size: o.cp,
    expert_model_parallel_size: o.ep,
    sequence_parallel: sp,
    disable_bias_linear: true,
    bf16: true,
    extra: {
      ffn_hidden_size: String(ffn),
      num_attention_heads: String(o.hiddenSize / 128),
      group_query_attention: "true",
      num_query_groups: "8",
      normalization: "RMSNorm",
      swiglu: "true",
      use_distributed_optimizer: "true",
      padded_vocab_size: String(VOCAB),
    },
  };
  if (o.etpGiven) config.expert_tensor_parallel_size = o.etp;
  if (o.vpp !== undefined && o.vpp > 1) config.num_layers_per_virtual_pipeline_stage = o.L / o.pp / o.vpp;
  if (o.capacityFactor !== undefined) {
    config.moe_expert_capacity_factor = o.capacityFactor;
    config.moe_pad_expert_input_to_capacity = false;
    config.moe_token_drop_policy = "probs";
  }
  return config;
}

/**
 * A layer's router bias shape at full strength: target utilizations (one hot expert, sometimes a second, one or
 * more cold ones, the rest lognormal around 1), scaled by a per-layer severity so some layers are worse, turned
 * into zero-mean logits ln(share). `hot1` is the hottest expert; `strong` is the oom scenario's victim stage.
 */
function routerProfile(rng: Rng, E: number, k: number, hot1: number, strong: boolean): Float64Array {
  const prof = new Float64Array(E);
  if (k >= E) return prof;
  const uMax = Math.max(1, Math.min(0.85 * (E / k), 1.4 + 2.2 * (Math.log(E) / Math.log(8))));
  const severity = strong ? 0.9 + 0.1 * rng.uniform() : 0.55 + 0.45 * Math.pow(rng.uniform(), 0.7);
  const util = new Float64Array(E);
  // Many-expert routers start with a broad spread of loads, not just one hot expert.
  const spread = 0.15 + 0.1 * Math.max(0, Math.log2(E / 8));
  for (let e = 0; e < E; e++) util[e] = Math.exp(spread * rng.normal());
  const u1 = 1 + (uMax - 1) * severity;
  util[hot1] = u1;
  const others = Array.from({ length: E }, (_, e) => e).filter((e) => e !== hot1);
  shuffle(others, rng);
  let next = 0;
  if (rng.uniform() < 0.5 && others.length > 1) util[others[next++]] = 1 + 0.5 * (u1 - 1) * (0.6 + 0.4 * rng.uniform());
  const nCold = Math.max(1, Math.round(E / 8));
  for (let i = 0; i < nCold && next < others.length; i++) util[others[next++]] = 0.25 + 0.35 * rng.uniform();
  let mean = 0;
  for (let e = 0; e < E; e++) {
    prof[e] = Math.log(util[e]);
    mean += prof[e] / E;
  }
  for (let e = 0; e < E; e++) prof[e] -= mean;
  return prof;
}

function shuffle<T>(a: T[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
}

function groupBy(ranks: RankInfo[], key: (ri: RankInfo) => number): number[][] {
  const groups = new Map<number, number[]>();
  for (const ri of ranks) {
    const kk = key(ri);
    let g = groups.get(kk);
    if (!g) groups.set(kk, (g = []));
    g.push(ri.rank);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((kk) => groups.get(kk)!);
}

function slice(src: ArrayLike<number>, offset: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = src[offset + i];
  return out;
}

function roundUp(x: number, unit: number): number {
  return Math.ceil(x / unit) * unit;
}
