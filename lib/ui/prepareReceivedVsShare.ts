import type { OomPostMortemDto } from "../dto";

/** ReceivedRow: one step of a layer's chart: the dying EP rank's tokens, its share (the group mean), the other EP ranks' range. */
export interface ReceivedRow {
  step: number;
  mine: number;
  share: number;
  /** [min, max] over the group's other EP ranks; null with EP 1. */
  others: [number, number] | null;
  ratio: number | null;
  complete: boolean;
}

/** ReceivedPanel: one MoE layer's small chart. */
export interface ReceivedPanel {
  layer: number;
  rows: ReceivedRow[];
  /** Highest received / share in the window and its step (null without data). */
  peak: { ratio: number; step: number } | null;
  /** The explanation's worst layer. */
  worst: boolean;
  partialSteps: number;
  yMax: number;
}

/** prepareReceivedVsShare turns the post-mortem's per-layer received tokens into one small chart per layer, worst layer first. */
export function prepareReceivedVsShare(dto: Pick<OomPostMortemDto, "received" | "rank" | "explanation">): ReceivedPanel[] {
  const epRank = dto.rank.epRank;
  const worstLayer = dto.explanation.findings.worst?.layer ?? null;
  const panels = dto.received.map((l): ReceivedPanel => {
    let peak: ReceivedPanel["peak"] = null;
    let yMax = 0;
    const rows = [...l.points]
      .sort((a, b) => a.step - b.step)
      .map((p): ReceivedRow => {
        const rest = p.byEpRank.filter((_, i) => i !== epRank);
        const others: [number, number] | null = rest.length ? [Math.min(...rest), Math.max(...rest)] : null;
        if (p.complete && p.ratio !== null && (peak === null || p.ratio > peak.ratio)) peak = { ratio: p.ratio, step: p.step };
        yMax = Math.max(yMax, p.mine, p.mean, others?.[1] ?? 0);
        return { step: p.step, mine: p.mine, share: p.mean, others, ratio: p.ratio, complete: p.complete };
      });
    return { layer: l.layer, rows, peak, worst: l.layer === worstLayer, partialSteps: rows.filter((r) => !r.complete).length, yMax };
  });
  return panels.sort((a, b) => Number(b.worst) - Number(a.worst) || a.layer - b.layer);
}
