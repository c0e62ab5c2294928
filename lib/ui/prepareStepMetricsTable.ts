import type { StepMetricsDto } from "../dto";
import { formatCount, formatRatio } from "./formatCount";

/** ExpertMention: an expert named in the table, e.g. "E3 2.41×". */
export interface ExpertMention {
  expert: number;
  label: string;
  title: string;
}

/** StepMetricsRow: one MoE layer at the selected step. */
export interface StepMetricsRow {
  layer: number;
  partial: boolean;
  ranks: string;
  maxVio: string;
  cv: string;
  entropy: string;
  epImbalance: string;
  dead: ExpertMention[];
  hottest: ExpertMention[];
  coldest: ExpertMention[];
  selected: boolean;
}

/** StepMetricsModel: the table, the de-duplication rule(s) behind it and the dead-expert total. */
export interface StepMetricsModel {
  step: number | null;
  rows: StepMetricsRow[];
  rules: string[];
  deadTotal: number;
  maxVioSummary: string;
}

function mention(e: { expert: number; load: number; utilization: number }): ExpertMention {
  return { expert: e.expert, label: `E${e.expert} ${formatRatio(e.utilization)}×`, title: `expert ${e.expert}: ${formatCount(e.load)} tokens, ${formatRatio(e.utilization)}× the layer mean` };
}

/** prepareStepMetricsTable formats every layer's metrics at one step (computed by the pure core on the server). */
export function prepareStepMetricsTable(dto: StepMetricsDto, selectedLayer: number | null = null): StepMetricsModel {
  const rows = dto.layers.map((l): StepMetricsRow => ({
    layer: l.layer,
    partial: l.ranksReported < l.ranksExpected,
    ranks: `${l.ranksReported}/${l.ranksExpected}`,
    maxVio: formatRatio(l.maxVio),
    cv: formatRatio(l.cv),
    entropy: formatRatio(l.normalizedEntropy),
    epImbalance: l.epImbalance == null ? "–" : `${formatRatio(l.epImbalance)}×`,
    dead: l.deadExperts.map((e) => ({ expert: e, label: `E${e}`, title: `expert ${e}: utilization below 0.1` })),
    hottest: l.hottest.map(mention),
    coldest: l.coldest.map(mention),
    selected: l.layer === selectedLayer,
  }));
  const s = dto.summary.maxVio;
  return {
    step: dto.step,
    rows,
    rules: [...new Set(dto.layers.map((l) => l.rule))],
    deadTotal: dto.layers.reduce((n, l) => n + l.deadExperts.length, 0),
    maxVioSummary: `min ${formatRatio(s.min)} · median ${formatRatio(s.median)} · p90 ${formatRatio(s.p90)} · max ${formatRatio(s.max)}`,
  };
}
