import type { AdvisorResult, FlagChange, Suggestion, SuggestionKind } from "../analysis/advisor/types";
import { formatBytes } from "./formatBytes";
import { formatCount, formatRatio } from "./formatCount";

/** AdviceInput: the advice DTO (GET /api/runs/{id}/advice, getAdvice) as this module reads it. */
export type AdviceInput = AdvisorResult & { runId: string; simulated: boolean };

/** KIND_LABEL: badge text per suggestion family. */
export const KIND_LABEL: Record<SuggestionKind, string> = {
  "etp-ep": "ETP / EP",
  capacity: "capacity factor",
  recompute: "recomputation",
  router: "router",
  revert: "revert",
};

const KIND_ORDER: SuggestionKind[] = ["etp-ep", "capacity", "recompute", "router", "revert"];

/** AdviceNumber: one labelled number of a suggestion, as "before → after" or a single value. */
export interface AdviceNumber {
  key: string;
  label: string;
  text: string;
}

/** AdviceChangeRow: one flag of the change table; absent/removed/switch spelled out. */
export interface AdviceChangeRow {
  flag: string;
  from: string;
  to: string;
}

/** AdviceItem: one suggestion, formatted. */
export interface AdviceItem {
  id: string;
  kind: SuggestionKind;
  kindLabel: string;
  title: string;
  valid: boolean;
  violations: Array<{ severity: string; rule: string; message: string }>;
  rationale: string;
  cost: string;
  keyNumbers: AdviceNumber[];
  otherNumbers: AdviceNumber[];
  changes: AdviceChangeRow[];
  diff: string;
}

/** AdviceGroup: the suggestions of one kind, best first. */
export interface AdviceGroup {
  kind: SuggestionKind;
  label: string;
  items: AdviceItem[];
}

/** AdviceModel: what the advice panel renders. */
export interface AdviceModel {
  step: number;
  simulated: boolean;
  groups: AdviceGroup[];
  count: number;
  /** The fitted model; `weak` (below the advisor's fit threshold) means it predicted nothing, and `why` says so. */
  memoryModel: { text: string; weak: boolean; why: string | null } | null;
  notes: string[];
}

function flagValue(v: string | null, missing: string): string {
  if (v === null) return missing;
  return v === "" ? "(switch)" : v;
}

/** changeRows spells out absent ("—"), removed and value-less switch flags. */
export function changeRows(changes: readonly FlagChange[]): AdviceChangeRow[] {
  return changes.map((c) => ({ flag: c.flag, from: flagValue(c.from, "(not set)"), to: flagValue(c.to, "(removed)") }));
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const ratio = (v: number | null) => (v == null ? "–" : `${formatRatio(v)}×`);
const pct = (v: number | null) => (v == null ? "–" : `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1)}%`);

/** adviceNumbers picks the headline numbers (before → after) and lists every other number generically. */
export function adviceNumbers(n: Suggestion["numbers"]): { keyNumbers: AdviceNumber[]; otherNumbers: AdviceNumber[] } {
  const used = new Set<string>();
  const keyNumbers: AdviceNumber[] = [];
  const pair = (key: string, label: string, b: string, a: string, fmt: (v: number | null) => string) => {
    if (!(b in n) && !(a in n)) return;
    used.add(b).add(a);
    keyNumbers.push({ key, label, text: `${fmt(num(n[b]))} → ${fmt(num(n[a]))}` });
  };
  const single = (key: string, label: string, fmt: (v: number | null) => string) => {
    if (!(key in n)) return;
    used.add(key);
    if (num(n[key]) == null) return;
    keyNumbers.push({ key, label, text: fmt(num(n[key])) });
  };
  const gpu = num(n.gpuMemoryBytes);
  const mem = (v: number | null) => (v == null ? "–" : `${formatBytes(v)}${gpu ? ` (${Math.round((v / gpu) * 100)}%)` : ""}`);
  pair("worstRatio", "worst EP rank / group mean", "worstRatioBefore", "worstRatioAfter", ratio);
  pair("worstReceived", "worst EP rank's received tokens", "worstReceivedBefore", "worstReceivedAfter", formatCount);
  if ("predictedPeakBytesBefore" in n && num(n.predictedPeakBytesAfter) == null) {
    // No prediction (no model, or a fit too weak to use): today's peak alone, never "x → –".
    used.add("predictedPeakBytesBefore").add("predictedPeakBytesAfter");
    if (num(n.predictedPeakBytesBefore) != null) keyNumbers.push({ key: "peak", label: "peak memory (worst rank)", text: `${mem(num(n.predictedPeakBytesBefore))} today, not predicted` });
  } else {
    pair("peak", "predicted peak memory (worst rank)", "predictedPeakBytesBefore", "predictedPeakBytesAfter", mem);
  }
  single("predictedSavingBytes", "memory saved", (v) => formatBytes(v));
  single("dropFractionOverall", "drop fraction (all layers)", pct);
  if ("dropFractionWorstLayer" in n) {
    used.add("dropFractionWorstLayer").add("worstDropLayer");
    keyNumbers.push({ key: "dropWorst", label: "drop fraction (worst layer)", text: `${pct(num(n.dropFractionWorstLayer))}${n.worstDropLayer != null ? ` (layer ${n.worstDropLayer})` : ""}` });
  }
  if ("capacityFactorForZeroDrops" in n) {
    used.add("capacityFactorForZeroDrops").add("estimate").add("basis");
    const v = num(n.capacityFactorForZeroDrops);
    const est = n.estimate === "yes" || n.estimate === 1 || (n.estimate as unknown) === true;
    keyNumbers.push({ key: "cfZero", label: "cf needed for zero drops", text: `${v == null ? "–" : v.toFixed(2)}${est ? " (estimate)" : ""}${n.basis ? `, from ${n.basis} counts` : ""}` });
  }
  single("padOverhead", "padding overhead", pct);
  if (gpu != null) used.add("gpuMemoryBytes");
  const otherNumbers: AdviceNumber[] = Object.entries(n)
    .filter(([k]) => !used.has(k))
    .map(([k, v]) => ({
      key: k,
      label: k,
      text: v == null ? "–" : typeof v === "number" ? (/Bytes/.test(k) ? formatBytes(v) : /^dropFraction/.test(k) ? pct(v) : formatRatio(v)) : v,
    }));
  return { keyNumbers, otherNumbers };
}

/** prepareAdvice groups the advisor's suggestions by kind (in the advisor's order within a kind) and formats them. */
export function prepareAdvice(dto: AdviceInput): AdviceModel {
  const groups: AdviceGroup[] = [];
  for (const kind of KIND_ORDER) {
    const items = dto.suggestions
      .filter((s) => s.kind === kind)
      .map((s): AdviceItem => ({
        id: s.id,
        kind: s.kind,
        kindLabel: KIND_LABEL[s.kind],
        title: s.title,
        valid: s.valid,
        violations: s.violations.map((v) => ({ severity: v.severity, rule: v.rule, message: v.message })),
        rationale: s.rationale,
        cost: s.cost,
        ...adviceNumbers(s.numbers),
        changes: changeRows(s.changes),
        diff: s.diff,
      }));
    if (items.length > 0) groups.push({ kind, label: KIND_LABEL[kind], items });
  }
  const m = dto.memoryModel;
  return {
    step: dto.step,
    simulated: dto.simulated,
    groups,
    count: dto.suggestions.length,
    memoryModel: m
      ? {
          text: `peak ≈ ${formatBytes(m.baseBytes)} + ${formatBytes(m.bytesPerToken)} × received tokens; r² ${m.r2.toFixed(2)} over ${m.samples} samples, RMS error ${formatBytes(m.rmsErrorBytes)}`,
          weak: dto.memoryPredictionsOff != null,
          why: dto.memoryPredictionsOff ?? null,
        }
      : null,
    // The advisor also states the fitted model (and a weak fit's consequence) as notes; they are shown above in structured form.
    notes: m ? dto.notes.filter((t) => !t.startsWith("memory model:") && t !== dto.memoryPredictionsOff) : dto.notes,
  };
}
