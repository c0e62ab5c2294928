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
  /** The dispatched (post-drop) view, only for layers where capacity dropping changed the load. */
  dispatched: { maxVio: string; cv: string; entropy: string; dead: number } | null;
  /** Share of assignments dropped, e.g. "78%"; "–" when no rank sent a dropped count. */
  dropped: string;
  /** Set when dropping capped the counts and the router's own counts were not sent: the router metrics understate. */
  basisWarning: string | null;
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
  /** Which counts the router columns use, once for the table. */
  basisNote: string;
  /** True when any layer has a dispatched view to show beside the router's. */
  anyDispatched: boolean;
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
    dispatched: l.dispatched && {
      maxVio: formatRatio(l.dispatched.maxVio),
      cv: formatRatio(l.dispatched.cv),
      entropy: formatRatio(l.dispatched.normalizedEntropy),
      dead: l.dispatched.deadExperts.length,
    },
    dropped: l.dropFraction == null ? "–" : `${Math.round(l.dropFraction * 100)}%`,
    basisWarning:
      l.loadBasis === "dispatched-only"
        ? "capacity dropping capped these counts and the ranks did not send their counts before dropping: the router's imbalance is understated"
        : null,
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
    basisNote:
      "MaxVio, CV, entropy, dead, hottest and coldest describe the router's choice (counts before capacity dropping where sent); " +
      "EP imb. is what EP ranks received after dropping.",
    anyDispatched: rows.some((r) => r.dispatched !== null),
    deadTotal: dto.layers.reduce((n, l) => n + l.deadExperts.length, 0),
    maxVioSummary: `min ${formatRatio(s.min)} · median ${formatRatio(s.median)} · p90 ${formatRatio(s.p90)} · max ${formatRatio(s.max)}`,
  };
}
