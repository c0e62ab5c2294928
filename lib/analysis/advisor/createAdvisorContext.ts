/**
 * Everything the suggestion builders share, computed once per advice: the run's mesh, the launch
 * arguments diffs are taken against, the EP load today, the memory model and each sampled rank's
 * received tokens under the current layout.
 */
import { computeEpLoad, type EpLoad } from "../computeEpLoad";
import { computeGlobalLoad } from "../computeGlobalLoad";
import { computeLayerMetrics } from "../computeLayerMetrics";
import { rankCoordinates, type MeshSizeSet } from "../rankCoordinates";
import type { RankCoords, RunConfig } from "../types";
import { classifyHistory, type HistoryVerdict } from "./classifyHistory";
import { configToArgs } from "./configToArgs";
import { fitMemoryModel, type MemoryModel } from "./fitMemoryModel";
import { meshSizes, summarizeEpLoads, type EpLoadPrediction } from "./predictEpLoad";
import { latestMemory, receivedOfRanks } from "./predictPeakMemory";
import { DEFAULT_ADVISOR_OPTIONS, type AdvisorInput, type AdvisorOptions, type MemoryObservation } from "./types";

/** AdvisorContext: the shared, precomputed state of one advice. */
export interface AdvisorContext {
  input: AdvisorInput;
  opts: AdvisorOptions;
  config: RunConfig;
  world: number;
  gpusPerNode: number;
  sizes: MeshSizeSet;
  /** The launch arguments diffs are taken against: the run's command line, or flags derived from its config. */
  baseArgs: string[];
  argsDerived: boolean;
  /** EP load per layer today, from the reported coordinates. */
  loadsNow: Array<{ layer: number; load: EpLoad }>;
  epNow: EpLoadPrediction;
  /** Worst MaxVio over layers today and its layer. */
  maxVioNow: { value: number; layer: number } | null;
  /** The model predictions use: null without a fit, or when the fit is below opts.minMemoryFitR2. */
  memoryModel: MemoryModel | null;
  /** The fitted model, weak or not (shown with its r²). */
  fittedMemoryModel: MemoryModel | null;
  /** Why a fitted model predicts nothing (weak fit), or null. */
  memoryPredictionsOff: string | null;
  latest: Map<number, MemoryObservation>;
  /** Current coordinates of every rank with a memory sample. */
  coordsNow: Map<number, RankCoords>;
  /** Tokens each sampled rank's EP rank receives over its observed layers today. */
  receivedNow: Map<number, number>;
  /** Observed MoE layers per pipeline stage. */
  layersPerStage: Map<number, number>;
  history: HistoryVerdict;
  notes: string[];
}

/** createAdvisorContext derives the mesh, today's EP load and MaxVio, the memory model and the history verdict from an advisor input (throws InvalidInput when the mesh itself is impossible). */
export function createAdvisorContext(input: AdvisorInput): AdvisorContext {
  const opts: AdvisorOptions = { ...DEFAULT_ADVISOR_OPTIONS, ...input.options };
  const notes: string[] = [];
  const config = input.config;
  const sizes = meshSizes(config, input.worldSize);
  const argsDerived = input.commandLine.length === 0;
  const baseArgs = argsDerived ? configToArgs(config) : [...input.commandLine];
  if (argsDerived) notes.push("no command line was registered: flag changes are shown against flags derived from the run's configuration");

  const loadsNow = input.layers.map(({ layer, reports }) => ({ layer, load: computeEpLoad(reports, config) }));
  const epNow = summarizeEpLoads(loadsNow);
  let maxVioNow: AdvisorContext["maxVioNow"] = null;
  for (const { layer, reports } of input.layers) {
    if (reports.length === 0) continue;
    const m = computeLayerMetrics(computeGlobalLoad(reports, config).load).maxVio;
    if (m !== null && (maxVioNow === null || m > maxVioNow.value)) maxVioNow = { value: m, layer };
  }

  // Predictions re-derive coordinates with Megatron's default order; say so if the ranks disagree.
  const mismatched = new Set<number>();
  for (const { reports } of input.layers) {
    for (const r of reports) {
      const c = rankCoordinates(r.rank, sizes);
      if (c.tp !== r.coords.tp || c.cp !== r.coords.cp || c.dp !== r.coords.dp || c.pp !== r.coords.pp || c.ep !== r.coords.ep || c.etp !== r.coords.etp || c.edp !== r.coords.edp) {
        mismatched.add(r.rank);
      }
    }
  }
  if (mismatched.size > 0) {
    notes.push(
      `${mismatched.size} rank(s) reported coordinates that differ from Megatron's default rank order (tp-cp-ep-dp-pp), e.g. rank ${[...mismatched][0]}: layout predictions assume the default order and may be off`,
    );
  }
  const partial: string[] = [];
  const perStage = sizes.etp * sizes.ep * sizes.edp;
  for (const { layer, load } of loadsNow) {
    const reported = load.groups.reduce((a, g) => a + g.ranksReported, 0);
    if (load.groups.length > 0 && reported < perStage) partial.push(`layer ${layer}: ${reported} of ${perStage}`);
  }
  // One note, not one per layer: a partial step usually affects many layers the same way.
  if (partial.length > 0) {
    notes.push(`${partial.length} layer(s) have reports from only part of their stage's ranks (${partial.slice(0, 3).join("; ")}${partial.length > 3 ? "; ..." : ""}): EP loads and predictions use the reported ranks only`);
  }

  const fittedMemoryModel = fitMemoryModel(input.memory, opts.minMemorySamples);
  const weakFit = fittedMemoryModel !== null && !(fittedMemoryModel.r2 >= opts.minMemoryFitR2);
  const memoryModel = weakFit ? null : fittedMemoryModel;
  const memoryPredictionsOff = weakFit
    ? `memory model fit r2 ${fittedMemoryModel.r2.toFixed(2)} is below ${opts.minMemoryFitR2.toFixed(2)}: received tokens explain too little of the peaks to predict memory, so no predicted memory is shown and suggestions are ranked without it`
    : null;
  if (fittedMemoryModel === null) {
    const n = input.memory.length;
    notes.push(
      n < opts.minMemorySamples
        ? `too little data for a memory model: ${n} sample${n === 1 ? "" : "s"}, need ${opts.minMemorySamples}`
        : `no memory model: received tokens never varied across the ${n} samples, so memory cannot be attributed to them`,
    );
  } else {
    const m = fittedMemoryModel;
    const quality = weakFit ? "too weak to predict with" : m.r2 >= 0.8 ? "good" : "fair";
    notes.push(
      `memory model: peak ~ ${(m.baseBytes / 2 ** 30).toFixed(1)} GiB + ${(m.bytesPerToken / 2 ** 10).toFixed(1)} KiB x received tokens; r2 ${m.r2.toFixed(2)} (${quality}), RMS error ${(m.rmsErrorBytes / 2 ** 30).toFixed(2)} GiB over ${m.samples} samples`,
    );
    if (memoryPredictionsOff) notes.push(memoryPredictionsOff);
  }
  const latest = latestMemory(input.memory, input.step);
  const coordsNow = new Map<number, RankCoords>();
  for (const rank of latest.keys()) {
    if (Number.isInteger(rank) && rank >= 0 && rank < input.worldSize) coordsNow.set(rank, rankCoordinates(rank, sizes));
  }
  const layersPerStage = new Map<number, number>();
  for (const { load } of loadsNow) {
    const stages = new Set(load.groups.map((g) => g.pp));
    for (const pp of stages) layersPerStage.set(pp, (layersPerStage.get(pp) ?? 0) + 1);
  }

  return {
    input,
    opts,
    config,
    world: input.worldSize,
    gpusPerNode: input.gpusPerNode,
    sizes,
    baseArgs,
    argsDerived,
    loadsNow,
    epNow,
    maxVioNow,
    memoryModel,
    fittedMemoryModel,
    memoryPredictionsOff,
    latest,
    coordsNow,
    receivedNow: receivedOfRanks(loadsNow, coordsNow),
    layersPerStage,
    history: classifyHistory(input.history, input.step, opts),
    notes,
  };
}
