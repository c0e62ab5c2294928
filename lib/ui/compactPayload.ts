/**
 * What the run page hands its client components is serialized into the page (and re-sent on every live
 * refresh): full float64 digits of 64 layers x 200 points x 4 numbers cost more than the drawing needs.
 * These helpers round values to 4 significant digits (a chart or a colour scale cannot show more) and keep
 * only the loss a chart draws. Step numbers and counts are integers and are left alone.
 */
import type { ImbalanceHeatmapDto, LossSeriesDto, ScalarSeriesDto, SeriesPointDto } from "../dto";
import type { LossName } from "../analysis/types";

/** roundSig rounds to `digits` significant digits (integers of up to `digits` digits are unchanged). */
export function roundSig(v: number, digits = 4): number {
  if (!Number.isFinite(v) || v === 0) return v;
  return Number(v.toPrecision(digits));
}

function roundNullable(v: number | null): number | null {
  return v === null ? null : roundSig(v);
}

function roundPoint(p: SeriesPointDto): SeriesPointDto {
  return { step: p.step, value: roundSig(p.value), min: roundSig(p.min), max: roundSig(p.max) };
}

/** lossSeriesFor keeps one loss's series, rounded. */
export function lossSeriesFor(dto: LossSeriesDto | null, loss: LossName): LossSeriesDto | null {
  if (!dto) return null;
  return { ...dto, series: dto.series.filter((s) => s.loss === loss).map((s) => ({ ...s, points: s.points.map(roundPoint) })) };
}

/** compactImbalance rounds the heatmap's values and its across-layer summary. */
export function compactImbalance(dto: ImbalanceHeatmapDto | null): ImbalanceHeatmapDto | null {
  if (!dto) return null;
  return {
    ...dto,
    values: dto.values.map((row) => row.map(roundNullable)),
    summary: dto.summary.map((s) => ({ step: s.step, min: roundNullable(s.min), median: roundNullable(s.median), p90: roundNullable(s.p90), max: roundNullable(s.max) })),
  };
}

/** compactScalars rounds every point of every named series. */
export function compactScalars(dto: ScalarSeriesDto | null): ScalarSeriesDto | null {
  if (!dto) return null;
  return { ...dto, series: dto.series.map((s) => ({ ...s, points: s.points.map(roundPoint) })) };
}
