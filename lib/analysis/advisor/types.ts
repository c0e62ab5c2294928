/**
 * The mitigation advisor's input and output shapes. adviseMitigations.ts re-exports them; they live
 * here so the per-kind suggestion builders can share them without importing the entry point.
 */
import type { ConfigViolation } from "../validateRunConfig";
import type { RankCoords, RunConfig } from "../types";
import type { MemoryModel, MemoryObservation } from "./fitMemoryModel";
import { DEFAULT_ALERT_RULES } from "../alerts/alertRules";

/** AdvisorRankReport: one rank's counts for one MoE layer at the advised step (summed over micro-batches). */
export interface AdvisorRankReport {
  rank: number;
  coords: RankCoords;
  /** T_local: tokens the rank routed through the layer in the step. */
  tokens: number;
  microBatches: number;
  /** Dispatched counts per expert (after any capacity dropping), length num_experts. */
  tokensPerExpert: number[];
  /** Counts before capacity dropping, sent when a capacity factor is in force. */
  tokensPerExpertBeforeDrop?: number[];
}

/** AdvisorLayerObservation: every rank report the advisor has for one MoE layer at the advised step (may be partial). */
export interface AdvisorLayerObservation {
  layer: number;
  reports: AdvisorRankReport[];
}

// Defined beside the fit that reads it (fitMemoryModel.ts), so the two files do not import each other.
export type { MemoryObservation } from "./fitMemoryModel";

/** HistoryPoint: the worst-over-layers imbalance of one step; zLoss (optional) is the worst layer's logged z_loss. */
export interface HistoryPoint {
  step: number;
  epImbalance: number | null;
  maxVio: number | null;
  zLoss?: number | null;
}

/** AdvisorOptions: thresholds and what-if grids; every field has a default (DEFAULT_ADVISOR_OPTIONS). */
export interface AdvisorOptions {
  /** Capacity factors to evaluate. */
  capacityFactors: number[];
  /** Steps of low, stable imbalance before reverting a temporary mitigation is advised. */
  stableWindowSteps: number;
  /** EP imbalance (max/mean received) below which a step counts as balanced. */
  stableEpImbalance: number;
  /** MaxVio below which a step counts as balanced. */
  stableMaxVio: number;
  /** Memory samples needed before a memory model is fitted. */
  minMemorySamples: number;
  /** Steps considered early training (seed: OOMs typically in steps 100-300); router levers only after. */
  earlyTrainingSteps: number;
  /** Peak / GPU memory at or above which the run needs memory relief even when imbalance is low. */
  memoryPressureFraction: number;
  /**
   * Fit quality (r²) below which the memory model predicts nothing: under 0.5 the received tokens explain
   * less than half of the peaks' variation (seen: r² 0.00-0.30 in early training, when peaks move with
   * other things), so a "69.7 -> 52.2 GiB" would be noise dressed as a number. Suggestions are then
   * ranked without memory.
   */
  minMemoryFitR2: number;
  /** EP imbalance at or above which the step "needs relief": the ep-imbalance-high alert's threshold. */
  reliefEpImbalance: number;
  /** MaxVio at or above which the step "needs relief": the maxvio-high alert's threshold. */
  reliefMaxVio: number;
}

/** FlagChange: one launch flag edit; from/to null mean absent/removed, "" means a switch without value. */
export interface FlagChange {
  flag: string;
  from: string | null;
  to: string | null;
}

/** SuggestionKind: the families of advice, in the order they are listed. */
export type SuggestionKind = "etp-ep" | "capacity" | "recompute" | "router" | "revert";

/** Suggestion: one concrete change to the launch, with the numbers behind it and its validity for the run's mesh. */
export interface Suggestion {
  /** Stable id, e.g. "etp-ep:etp2-ep4", "capacity:1.25", "recompute:moe", "router:aux-coeff", "revert:dropless". */
  id: string;
  kind: SuggestionKind;
  title: string;
  changes: FlagChange[];
  /** The full launch arguments after the change. */
  argsAfter: string[];
  /** Unified-style diff of the launch arguments (see argsDiff). */
  diff: string;
  rationale: string;
  cost: string;
  /** False when validateRunConfig (or an advisor check) reports an error for the changed configuration. */
  valid: boolean;
  violations: ConfigViolation[];
  numbers: Record<string, number | string | null>;
  /** Ranking within its kind, higher first. */
  score: number;
}

/** AdvisorInput: everything the advisor needs about one run at one step; no I/O happens inside. */
export interface AdvisorInput {
  config: RunConfig;
  worldSize: number;
  gpusPerNode: number;
  gpuMemoryBytes: number;
  /** The run's launch arguments; when empty, diffs are against flags derived from config (configToArgs). */
  commandLine: string[];
  step: number;
  layers: AdvisorLayerObservation[];
  memory: MemoryObservation[];
  /** Worst over layers per step, ascending steps. */
  history: HistoryPoint[];
  options?: Partial<AdvisorOptions>;
}

/** AdvisorResult: the suggestions for one step, the memory model they used (if any) and notes on what could not be computed. */
export interface AdvisorResult {
  step: number;
  suggestions: Suggestion[];
  memoryModel: MemoryModel | null;
  /** Why no memory predictions were made although a model was fitted (a weak fit); null when they were. */
  memoryPredictionsOff: string | null;
  notes: string[];
}

/** DEFAULT_ADVISOR_OPTIONS: the defaults behind every AdvisorOptions field. */
export const DEFAULT_ADVISOR_OPTIONS: AdvisorOptions = {
  capacityFactors: [1.0, 1.25, 1.5, 2.0],
  stableWindowSteps: 200,
  stableEpImbalance: 1.3,
  stableMaxVio: 0.5,
  minMemorySamples: 20,
  earlyTrainingSteps: 500,
  memoryPressureFraction: 0.9,
  minMemoryFitR2: 0.5,
  reliefEpImbalance: DEFAULT_ALERT_RULES["ep-imbalance-high"].threshold,
  reliefMaxVio: DEFAULT_ALERT_RULES["maxvio-high"].threshold,
};
