/**
 * Post-mortem of an OOM event: reads the dying rank's dispatch group, its layer reports, memory samples
 * and the run's alerts over the last N steps, and lets the pure core (computeEpLoad, explainOom) say why.
 */
import { computeEpLoad, type EpRankReport } from "../../analysis/computeEpLoad";
import { deriveParallelSizes } from "../../analysis/deriveParallelSizes";
import { expertsOfEpRank } from "../../analysis/expertsOfEpRank";
import { layerReportFromRow } from "../../store/layerReportRows";
import { explainOom, type OomAlertInput, type OomMemoryPoint, type OomReceivedPoint } from "../../analysis/postmortem/explainOom";
import { stageOfLayer } from "../../analysis/stageOfLayer";
import type { OomPostMortemDto } from "../../dto";
import { listAlerts } from "./alertQueries";
import { getEvents } from "./queries";
import { findRunById, listRanks } from "../../store/runsRepo";
import { getDb } from "./webDb";

/** DEFAULT_POSTMORTEM_WINDOW: steps before (and including) the OOM step a post-mortem reads. */
export const DEFAULT_POSTMORTEM_WINDOW = 30;

/**
 * getOomPostMortem explains OOM event `eventId` of run `runId` from the `window` steps up to its step; null
 * when the run or the event does not exist or the event is not an OOM.
 */
export async function getOomPostMortem(runId: string, eventId: string, window: number = DEFAULT_POSTMORTEM_WINDOW): Promise<OomPostMortemDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const event = (await getEvents(runId))?.find((e) => e.id === eventId);
  if (!event || event.kind !== "oom") return null;
  const eventRow = await db.prisma.runEvent.findUnique({ where: { id: eventId }, select: { createdAt: true } });
  const eventMs = eventRow?.createdAt.getTime() ?? Date.now();

  const sizes = deriveParallelSizes(run.config, run.worldSize);
  const from = Math.max(0, event.step - window + 1);
  const to = event.step;
  const ranks = await listRanks(db, runId);
  const dying = ranks.find((r) => r.rank === event.rank) ?? null;
  const coords = dying?.coords ?? null;
  const members = coords ? ranks.filter((r) => r.coords.edp === coords.edp && r.coords.pp === coords.pp) : [];
  const memberRanks = members.map((m) => m.rank);
  const coordsOf = new Map(members.map((m) => [m.rank, m.coords]));
  const stageLayers = coords ? run.moeLayers.filter((l) => stageOfLayer(run.config, l).pp === coords.pp) : [];
  const group = coords ? { index: coords.pp * sizes.edp + coords.edp, edp: coords.edp, pp: coords.pp } : null;

  // ---- tokens received by every EP rank of the group, per (step, layer) --------------------------------------
  const reports =
    stageLayers.length > 0 && memberRanks.length > 0
      ? await db.prisma.layerReport.findMany({
          where: { runId, step: { gte: from, lte: to }, layer: { in: stageLayers }, rank: { in: memberRanks } },
        })
      : [];
  const byPoint = new Map<string, { step: number; layer: number; reports: EpRankReport[] }>();
  for (const r of reports) {
    const key = `${r.step}/${r.layer}`;
    let p = byPoint.get(key);
    if (!p) byPoint.set(key, (p = { step: r.step, layer: r.layer, reports: [] }));
    p.reports.push({ rank: r.rank, coords: coordsOf.get(r.rank)!, ...layerReportFromRow(r.step, r) });
  }
  const received: OomReceivedPoint[] = [];
  for (const p of byPoint.values()) {
    const g = computeEpLoad(p.reports, run.config).groups[0];
    if (g) received.push({ step: p.step, layer: p.layer, byEpRank: g.received, complete: g.ranksReported >= g.ranksExpected });
  }
  received.sort((a, b) => a.layer - b.layer || a.step - b.step);

  // ---- memory of the group's ranks ---------------------------------------------------------------------------
  const samples = await db.prisma.stepSample.findMany({
    where: { runId, step: { gte: from, lte: to }, rank: { in: memberRanks.length > 0 ? memberRanks : [event.rank] } },
    select: { rank: true, step: true, allocatedBytes: true, reservedBytes: true, peakAllocatedBytes: true, numAllocRetries: true },
    orderBy: { step: "asc" },
  });
  const memory: OomPostMortemDto["memory"] = samples
    .filter((s) => s.rank === event.rank && s.peakAllocatedBytes !== null)
    .map((s) => ({
      step: s.step,
      allocatedBytes: Number(s.allocatedBytes ?? 0),
      reservedBytes: Number(s.reservedBytes ?? 0),
      peakAllocatedBytes: Number(s.peakAllocatedBytes),
      numAllocRetries: Number(s.numAllocRetries ?? 0),
      source: "sample" as const,
    }));
  // The OOM's own memory sample is the last reading of the rank: the step itself sends no step sample.
  if (event.memory && !memory.some((m) => m.step === event.step)) {
    memory.push({ step: event.step, ...event.memory, source: "oom-event" });
  }
  const peaksOf = new Map<number, Array<{ step: number; peakAllocatedBytes: number }>>();
  for (const s of samples) {
    if (s.peakAllocatedBytes === null) continue;
    let list = peaksOf.get(s.rank);
    if (!list) peaksOf.set(s.rank, (list = []));
    list.push({ step: s.step, peakAllocatedBytes: Number(s.peakAllocatedBytes) });
  }
  peaksOf.set(event.rank, memory.map((m) => ({ step: m.step, peakAllocatedBytes: m.peakAllocatedBytes })));

  // ---- alerts that overlapped the window ------------------------------------------------------------------------
  const stageSet = new Set(stageLayers);
  const alerts = (await listAlerts({ runId, limit: 1000 }))
    .map((a) => {
      // An episode the end of the run resolved (after the OOM was recorded, last seen at the OOM's step or the
      // one before, which is the rank's last step sample) was still firing when the rank died.
      const lastSeen = a.lastStep ?? a.step;
      const firingAtDeath = a.status === "firing" || (a.resolvedAt !== null && Date.parse(a.resolvedAt) >= eventMs && lastSeen >= event.step - 1);
      const endStep = firingAtDeath ? null : lastSeen;
      const relevant = a.rank === event.rank || (a.layer !== null && stageSet.has(a.layer)) || (a.layer === null && a.rank === null);
      return { ...a, endStep, relevant };
    })
    .filter((a) => a.step <= to && (a.endStep === null || a.endStep >= from))
    .sort((a, b) => a.step - b.step || a.ruleId.localeCompare(b.ruleId));
  const alertInputs: OomAlertInput[] = alerts.map((a) => ({
    ruleId: a.ruleId,
    scope: a.scope,
    layer: a.layer,
    rank: a.rank,
    severity: a.severity,
    status: a.endStep === null ? "firing" : "resolved",
    step: a.step,
    value: a.value,
    endStep: a.endStep,
  }));

  const memPoints: OomMemoryPoint[] = memory.map((m) => ({ step: m.step, peakAllocatedBytes: m.peakAllocatedBytes }));
  const explanation = explainOom({
    rank: event.rank,
    epRank: coords?.ep ?? null,
    group,
    oomStep: event.step,
    oomLayer: event.layer,
    phase: event.phase,
    window: { from, to },
    stageLayers,
    gpuMemoryBytes: run.gpuMemoryBytes,
    received,
    memory: memPoints,
    alerts: alertInputs,
  });

  // ---- the group table ----------------------------------------------------------------------------------------
  const worst = explanation.findings.worst;
  const complete = received.filter((p) => p.complete);
  const ratioOf = (p: OomReceivedPoint, ep: number): number | null => {
    const mean = p.byEpRank.reduce((a, b) => a + b, 0) / p.byEpRank.length;
    return mean > 0 ? p.byEpRank[ep] / mean : null;
  };
  const atWorst = worst ? complete.find((p) => p.step === worst.step && p.layer === worst.layer) : undefined;
  const groupRows: OomPostMortemDto["group"] = members.map((m) => {
    const ratios = complete.map((p) => ratioOf(p, m.coords.ep)).filter((r): r is number => r !== null);
    const peaks = peaksOf.get(m.rank) ?? [];
    return {
      rank: m.rank,
      epRank: m.coords.ep,
      etpRank: m.coords.etp,
      dying: m.rank === event.rank,
      receivedAtWorst: atWorst ? atWorst.byEpRank[m.coords.ep] : null,
      ratioAtWorst: atWorst ? ratioOf(atWorst, m.coords.ep) : null,
      maxRatio: ratios.length ? Math.max(...ratios) : null,
      meanRatio: ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : null,
      lastPeakBytes: peaks.length ? peaks[peaks.length - 1].peakAllocatedBytes : null,
      maxPeakBytes: peaks.length ? Math.max(...peaks.map((p) => p.peakAllocatedBytes)) : null,
    };
  });

  const layers = stageLayers.map((layer) => ({
    layer,
    points: received
      .filter((p) => p.layer === layer)
      .map((p) => {
        const mean = p.byEpRank.reduce((a, b) => a + b, 0) / p.byEpRank.length;
        const mine = coords ? p.byEpRank[coords.ep] : 0;
        return { step: p.step, byEpRank: p.byEpRank, mine, mean, ratio: mean > 0 ? mine / mean : null, complete: p.complete };
      }),
  }));

  return {
    runId,
    runName: run.name,
    event,
    rank: {
      rank: event.rank,
      coords: coords ? { tp: coords.tp, cp: coords.cp, dp: coords.dp, pp: coords.pp, ep: coords.ep, etp: coords.etp, edp: coords.edp } : null,
      epRank: coords?.ep ?? null,
      group,
      experts: coords ? expertsOfEpRank(coords.ep, run.numExperts, sizes.ep) : null,
    },
    sizes: { ep: sizes.ep, etp: sizes.etp, edp: sizes.edp, numExperts: run.numExperts, expertsPerEpRank: run.numExperts / sizes.ep },
    gpuMemoryBytes: run.gpuMemoryBytes,
    window: { from, to, size: to - from + 1 },
    layers: stageLayers,
    received: layers,
    memory,
    groupMemory: members.map((m) => ({ rank: m.rank, epRank: m.coords.ep, etpRank: m.coords.etp, points: peaksOf.get(m.rank) ?? [] })),
    group: groupRows,
    alerts,
    explanation: { text: explanation.text, findings: explanation.findings },
  };
}
