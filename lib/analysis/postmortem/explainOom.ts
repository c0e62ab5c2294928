/**
 * Why did this rank run out of memory? A pure reading of the last N steps before an OOM: how many tokens
 * the dying rank's EP rank received per MoE layer against its dispatch group's mean (DESIGN "EP-rank load":
 * with E/EP experts per EP rank, the group mean is each EP rank's balanced share), how its peak memory moved,
 * and which alerts were firing. It returns the findings and one paragraph built only from them; where data
 * is missing the paragraph says so instead of guessing.
 */

/** OomReceivedPoint: tokens received by every EP rank of the dying rank's dispatch group, one MoE layer, one step. */
export interface OomReceivedPoint {
  step: number;
  layer: number;
  /** Index = EP rank (computeEpLoad's R[g][r] for the group). */
  byEpRank: number[];
  /** Every ETP x EP member of the group reported; a partial group's derived values are undercounts. */
  complete: boolean;
}

/** OomMemoryPoint: the dying rank's peak allocated bytes at one step. */
export interface OomMemoryPoint {
  step: number;
  peakAllocatedBytes: number;
}

/** OomAlertInput: one alert episode of the run, by the step it fired at and the last step it was seen. */
export interface OomAlertInput {
  ruleId: string;
  scope: string;
  layer: number | null;
  rank: number | null;
  severity: "warning" | "critical";
  status: "firing" | "resolved";
  /** Step that fired it. */
  step: number;
  value: number;
  /** Last step of an episode that resolved before the OOM; null when it was still firing at the OOM. */
  endStep: number | null;
}

/** OomExplainInput: the dying rank, its dispatch group's received tokens, its memory and the run's alerts. */
export interface OomExplainInput {
  rank: number;
  /** EP rank of the dying rank; null when the rank never reported its coordinates. */
  epRank: number | null;
  /** The ETP x EP dispatch group: its index (pp * EDP + edp) and coordinates; null when unknown. */
  group: { index: number; edp: number; pp: number } | null;
  oomStep: number;
  oomLayer: number | null;
  phase: string | null;
  /** Inclusive step window the inputs cover. */
  window: { from: number; to: number };
  /** The MoE layers of the dying rank's pipeline stage. */
  stageLayers: number[];
  /** GPU memory in bytes; null or <= 0 when unknown. */
  gpuMemoryBytes: number | null;
  received: OomReceivedPoint[];
  memory: OomMemoryPoint[];
  alerts: OomAlertInput[];
}

/** OomLayerFinding: one MoE layer of the stage over the window, from the dying EP rank's point of view. */
export interface OomLayerFinding {
  layer: number;
  /** Highest received / group mean over the window, its step, and the tokens behind it. */
  maxRatio: number;
  maxRatioStep: number;
  received: number;
  mean: number;
  /** Mean of received / group mean over the window's complete points. */
  meanRatio: number;
  points: number;
}

/** OomWorst: the (layer, step) where the dying EP rank received the most relative to its share. */
export interface OomWorst {
  layer: number;
  step: number;
  received: number;
  mean: number;
  ratio: number;
  /** The dying EP rank received the most of its group at that point (ties count). */
  wasGroupWorst: boolean;
  /** The group's busiest EP rank at that point and its ratio (the dying one when wasGroupWorst). */
  groupWorstEpRank: number;
  groupWorstRatio: number;
}

/** OomMemoryFinding: the dying rank's peak memory over the window. */
export interface OomMemoryFinding {
  fromStep: number;
  toStep: number;
  firstPeakBytes: number;
  lastPeakBytes: number;
  /** lastPeak - firstPeak (negative when it fell). */
  riseBytes: number;
  maxPeakBytes: number;
  maxPeakStep: number;
  /** lastPeak / GPU memory; null when the GPU memory is unknown. */
  lastFractionOfGpu: number | null;
  samples: number;
}

/** OomFindings: what explainOom concluded, as numbers. */
export interface OomFindings {
  worst: OomWorst | null;
  layers: OomLayerFinding[];
  /** Complete (step, layer) points and how many of them had the dying EP rank as its group's busiest. */
  groupWorstPoints: { top: number; total: number };
  incompletePoints: number;
  memory: OomMemoryFinding | null;
  /** The earliest-fired alert on the rank, its stage's layers or the run that was still firing at the OOM. */
  firstFiringAlert: { ruleId: string; scope: string; layer: number | null; rank: number | null; step: number; value: number } | null;
  /** Alerts on the rank, its stage's layers or the run firing at the OOM step (the OOM's own alert excluded). */
  alertsFiringAtOom: number;
  /** Such alerts that fired and resolved inside the window before the OOM. */
  alertsResolvedInWindow: number;
  /**
   * Every alert episode on the rank, its stage's layers or the run that fired by the OOM step and overlapped the
   * window, by the step it fired: since when, and the last step it was seen (null: still firing at the OOM).
   * The post-mortem's alert list shows the same episodes.
   */
  windowAlerts: Array<{ ruleId: string; layer: number | null; rank: number | null; since: number; endStep: number | null }>;
  /** Alerts of the window on other stages' layers or ranks (listed on the page, not in the paragraph). */
  otherAlertsInWindow: number;
  /** Plain sentences naming data that was not there. */
  missing: string[];
}

/** OomExplanation: the findings and the one-paragraph text built from them. */
export interface OomExplanation {
  findings: OomFindings;
  text: string;
}

/** Alerts that are consequences of the death, not precursors. */
const CONSEQUENCE_RULES = new Set(["oom", "rank-silent"]);
// Alert episodes named one by one in the paragraph; the rest are counted (the page lists them all).
const MAX_ALERTS_IN_TEXT = 6;

/** explainOom reads an OOM's window and returns structured findings and a paragraph stating them (and what is missing). */
export function explainOom(input: OomExplainInput): OomExplanation {
  const missing: string[] = [];
  const span = `steps ${input.window.from}–${input.window.to}`;

  // ---- received tokens vs the group mean -------------------------------------------------------------------
  const stage = new Set(input.stageLayers);
  const byLayer = new Map<number, OomLayerFinding & { ratioSum: number }>();
  let worst: OomWorst | null = null;
  let top = 0;
  let total = 0;
  let incomplete = 0;
  const points = [...input.received]
    .filter((p) => p.step >= input.window.from && p.step <= input.window.to && (stage.size === 0 || stage.has(p.layer)))
    .sort((a, b) => a.step - b.step || a.layer - b.layer);
  if (input.epRank !== null) {
    for (const p of points) {
      if (!p.complete) {
        incomplete += 1;
        continue;
      }
      const ep = p.byEpRank.length;
      const mine = p.byEpRank[input.epRank];
      if (ep === 0 || mine === undefined) continue;
      const mean = p.byEpRank.reduce((a, b) => a + b, 0) / ep;
      if (!(mean > 0)) continue;
      const ratio = mine / mean;
      const max = Math.max(...p.byEpRank);
      total += 1;
      if (mine === max) top += 1;
      let l = byLayer.get(p.layer);
      if (!l) {
        l = { layer: p.layer, maxRatio: ratio, maxRatioStep: p.step, received: mine, mean, meanRatio: 0, points: 0, ratioSum: 0 };
        byLayer.set(p.layer, l);
      } else if (ratio > l.maxRatio) {
        Object.assign(l, { maxRatio: ratio, maxRatioStep: p.step, received: mine, mean });
      }
      l.ratioSum += ratio;
      l.points += 1;
      // Strictly greater: among equal ratios the earliest step (then the lowest layer) is reported.
      if (worst === null || ratio > worst.ratio) {
        const busiest = p.byEpRank.indexOf(max);
        worst = {
          layer: p.layer,
          step: p.step,
          received: mine,
          mean,
          ratio,
          wasGroupWorst: mine === max,
          groupWorstEpRank: mine === max ? input.epRank : busiest,
          groupWorstRatio: max / mean,
        };
      }
    }
  }
  const layers = [...byLayer.values()]
    .sort((a, b) => a.layer - b.layer)
    .map(({ ratioSum, ...l }) => ({ ...l, meanRatio: ratioSum / l.points }));

  if (input.epRank === null || input.group === null) {
    missing.push(`Rank ${input.rank} never reported its coordinates, so its EP rank and dispatch group are unknown and its token load cannot be attributed.`);
  } else if (points.length === 0) {
    missing.push(`No token counts of its dispatch group were stored for its MoE layers in ${span}.`);
  } else if (total === 0) {
    missing.push(`Its dispatch group never reported completely in ${span} (${incomplete} partial layer-steps), so received tokens cannot be compared with the group mean.`);
  }

  // ---- memory ---------------------------------------------------------------------------------------------
  const mem = [...input.memory]
    .filter((m) => m.step >= input.window.from && m.step <= input.window.to && Number.isFinite(m.peakAllocatedBytes))
    .sort((a, b) => a.step - b.step);
  const gpu = input.gpuMemoryBytes !== null && input.gpuMemoryBytes > 0 ? input.gpuMemoryBytes : null;
  let memory: OomMemoryFinding | null = null;
  if (mem.length === 0) {
    missing.push(`No memory samples of rank ${input.rank} were stored for ${span}, so its memory trend is unknown.`);
  } else {
    const first = mem[0];
    const last = mem[mem.length - 1];
    let maxP = first;
    for (const m of mem) if (m.peakAllocatedBytes > maxP.peakAllocatedBytes) maxP = m;
    memory = {
      fromStep: first.step,
      toStep: last.step,
      firstPeakBytes: first.peakAllocatedBytes,
      lastPeakBytes: last.peakAllocatedBytes,
      riseBytes: last.peakAllocatedBytes - first.peakAllocatedBytes,
      maxPeakBytes: maxP.peakAllocatedBytes,
      maxPeakStep: maxP.step,
      lastFractionOfGpu: gpu === null ? null : last.peakAllocatedBytes / gpu,
      samples: mem.length,
    };
    if (gpu === null) missing.push("The run did not report its GPU memory, so headroom is unknown.");
  }

  // ---- alerts ---------------------------------------------------------------------------------------------
  const relevant = input.alerts.filter(
    (a) =>
      !CONSEQUENCE_RULES.has(a.ruleId) &&
      a.step <= input.oomStep &&
      (a.rank === input.rank || (a.layer !== null && stage.has(a.layer)) || (a.layer === null && a.rank === null)),
  );
  const firingAtOom = relevant.filter((a) => a.status === "firing" || a.endStep === null || a.endStep >= input.oomStep);
  const resolvedInWindow = relevant.filter((a) => !firingAtOom.includes(a) && a.endStep !== null && a.endStep >= input.window.from);
  const inWindow = (a: OomAlertInput) =>
    !CONSEQUENCE_RULES.has(a.ruleId) && a.step <= input.oomStep && (a.endStep === null || a.status === "firing" || a.endStep >= input.window.from);
  const windowAlerts = relevant
    .filter(inWindow)
    .sort((a, b) => a.step - b.step || a.ruleId.localeCompare(b.ruleId))
    .map((a) => ({ ruleId: a.ruleId, layer: a.layer, rank: a.rank, since: a.step, endStep: firingAtOom.includes(a) ? null : a.endStep }));
  const otherAlertsInWindow = input.alerts.filter((a) => inWindow(a) && !relevant.includes(a)).length;
  const first = [...firingAtOom].sort((a, b) => a.step - b.step || Number(b.severity === "critical") - Number(a.severity === "critical"))[0];
  const firstFiringAlert = first
    ? { ruleId: first.ruleId, scope: first.scope, layer: first.layer, rank: first.rank, step: first.step, value: first.value }
    : null;

  const findings: OomFindings = {
    worst,
    layers,
    groupWorstPoints: { top, total },
    incompletePoints: incomplete,
    memory,
    firstFiringAlert,
    alertsFiringAtOom: firingAtOom.length,
    alertsResolvedInWindow: resolvedInWindow.length,
    windowAlerts,
    otherAlertsInWindow,
    missing,
  };
  return { findings, text: formatOomParagraph(input, findings) };
}

/** formatOomParagraph builds the explanation paragraph from the findings only. */
export function formatOomParagraph(input: OomExplainInput, f: OomFindings): string {
  const s: string[] = [];
  const who =
    input.epRank !== null && input.group !== null
      ? `EP rank ${input.epRank} of dispatch group ${input.group.index} (edp ${input.group.edp}, pp ${input.group.pp}), global rank ${input.rank},`
      : `Rank ${input.rank}`;
  const where = [input.phase ? `${input.phase} pass` : null, input.oomLayer !== null ? `layer ${input.oomLayer}` : null].filter(Boolean).join(", ");
  s.push(`${cap(who)} ran out of memory at step ${input.oomStep}${where ? ` (${where})` : ""}.`);

  const steps = input.window.to - input.window.from + 1;
  if (f.worst) {
    const w = f.worst;
    const rival = w.wasGroupWorst
      ? "the most of any EP rank in its group"
      : `while EP rank ${w.groupWorstEpRank} of the group received ${ratio(w.groupWorstRatio)}x`;
    s.push(
      `In the last ${steps} steps it received up to ${ratio(w.ratio)}x its share in layer ${w.layer} at step ${w.step} ` +
        `(${count(w.received)} tokens against a group mean of ${count(w.mean)}), ${rival}.`,
    );
    if (f.groupWorstPoints.total > 1) {
      s.push(`It was its group's busiest EP rank in ${f.groupWorstPoints.top} of ${f.groupWorstPoints.total} layer-steps.`);
    }
  }

  if (f.memory) {
    const m = f.memory;
    const of = m.lastFractionOfGpu !== null && input.gpuMemoryBytes ? ` (${pct(m.lastFractionOfGpu)} of the ${bytes(input.gpuMemoryBytes)} GPU)` : "";
    if (m.samples === 1) {
      s.push(`Only one memory sample was stored (step ${m.fromStep}): peak ${bytes(m.lastPeakBytes)}${of}.`);
    } else {
      const verb = m.riseBytes >= 0 ? "rose" : "fell";
      s.push(`Peak memory ${verb} ${bytes(Math.abs(m.riseBytes))} over ${m.toStep - m.fromStep} steps, to ${bytes(m.lastPeakBytes)} at step ${m.toStep}${of}.`);
    }
  }

  // The same episodes, in the same words, as the alert list below the paragraph: since when each fired, and
  // whether it was still firing at the OOM or resolved (and by which step).
  const others =
    f.otherAlertsInWindow > 0
      ? ` ${f.otherAlertsInWindow} more on other stages' layers or ranks ${f.otherAlertsInWindow === 1 ? "is" : "are"} listed below.`
      : "";
  if (f.windowAlerts.length > 0) {
    const shown = f.windowAlerts.slice(0, MAX_ALERTS_IN_TEXT).map((a) => {
      const on = a.layer !== null ? `layer ${a.layer}` : a.rank !== null ? `rank ${a.rank}` : "the run";
      return a.endStep === null
        ? `${a.ruleId} on ${on} firing since step ${a.since}, still firing at the OOM`
        : `${a.ruleId} on ${on} fired at step ${a.since}, resolved by step ${a.endStep}`;
    });
    const more = f.windowAlerts.length - shown.length;
    const firing = f.windowAlerts.filter((a) => a.endStep === null).length;
    const total = f.windowAlerts.length;
    const summary =
      total === 1 && more === 0 ? "" : firing === 0 ? " None of them was still firing at the OOM." : ` ${firing} of ${total} ${firing === 1 ? "was" : "were"} still firing at the OOM.`;
    s.push(`Alerts on its rank, its stage's layers or the run in the window: ${shown.join("; ")}${more > 0 ? `; and ${more} more` : ""}.${summary}${others}`);
  } else {
    s.push("No alert on its rank, its stage's layers or the run had fired before the OOM." + others);
  }
  s.push(...f.missing);
  return s.join(" ");
}

function cap(t: string): string {
  return t.charAt(0).toUpperCase() + t.slice(1);
}

function ratio(v: number): string {
  return v.toFixed(2);
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function count(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}

/** bytes in binary units with one decimal, as torch reports memory (kept here so the core imports no UI code). */
function bytes(v: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let x = v;
  let u = 0;
  while (Math.abs(x) >= 1024 && u < units.length - 1) {
    x /= 1024;
    u += 1;
  }
  return u === 0 ? `${x} B` : `${x.toFixed(1)} ${units[u]}`;
}
