/**
 * Builds the advisor's input from what is stored (per-rank counts at a step, memory samples next to
 * the tokens each rank's EP rank received, the worst-over-layers history) and runs the pure advisor.
 * The same function serves the run page and GET /api/runs/{id}/advice.
 */
import { LRUCache } from "lru-cache";
import { envSetting } from "../../runtime/env";
import { adviseMitigations, type AdvisorResult } from "../../analysis/advisor/adviseMitigations";
import { holdBestSuggestions, type SuggestionHolds } from "../../analysis/advisor/holdBestSuggestions";
import { effectiveRules, loadRuleOverridesFile } from "../../store/alertRulesStore";
import { DEFAULT_ADVISOR_OPTIONS, type AdvisorLayerObservation, type HistoryPoint, type MemoryObservation } from "../../analysis/advisor/types";
import { computeEpLoad } from "../../analysis/computeEpLoad";
import { layerReportFromRow } from "../../store/layerReportRows";
import type { RankCoords } from "../../analysis/types";
import type { Db } from "../../store/db";
import { latestStep } from "./queries";
import { findRunById, listRanks, type RunRecord } from "../../store/runsRepo";
import { getDb } from "./webDb";

/** MEMORY_WINDOW_STEPS: how many recent steps calibrate the memory model. */
export const MEMORY_WINDOW_STEPS = 40;

/** AdviceDto: the advisor's result for a run at a step, or why there is none. */
export type AdviceDto = AdvisorResult & { runId: string; simulated: boolean };

/**
 * The hysteresis holds of each run's advice, as of the newest step advised (see holdBestSuggestions). In
 * memory: after a restart the first advice starts fresh, which only costs one flip. Bounded by the runs
 * advised since start; an entry is a few short strings.
 */
const MAX_HELD_RUNS = 1_000;
const holds = new LRUCache<string, SuggestionHolds>({ max: MAX_HELD_RUNS });

/** getAdvice runs the advisor on the run's data at `step` (newest complete step when omitted). */
export async function getAdvice(runId: string, step?: number): Promise<AdviceDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const at = step ?? (await latestStep(db, run));
  const coords = new Map((await listRanks(db, runId)).map((r) => [r.rank, r.coords]));
  if (at === null) {
    return {
      runId, simulated: run.simulated, step: 0, suggestions: [], memoryModel: null, memoryPredictionsOff: null,
      notes: ["no data yet: advice needs at least one step of expert counts"],
    };
  }
  const history = await loadHistory(db, runId, at);
  const layers = await loadLayers(db, runId, at, coords);
  const memory = await loadMemory(db, run, at, coords);
  // "Needs relief" means what the alerts mean: the run's own effective thresholds.
  const rules = await effectiveRules(db, runId, loadRuleOverridesFile(envSetting("ALERT_RULES_FILE")));
  const result = adviseMitigations({
    config: run.config,
    worldSize: run.worldSize,
    gpusPerNode: run.gpusPerNode,
    gpuMemoryBytes: run.gpuMemoryBytes,
    commandLine: run.commandLine,
    step: at,
    layers,
    memory,
    history,
    options: { reliefEpImbalance: rules["ep-imbalance-high"].threshold, reliefMaxVio: rules["maxvio-high"].threshold },
  });
  const held = holdBestSuggestions(result.suggestions, holds.get(runId) ?? null, at);
  if (held.holds.step >= (holds.get(runId)?.step ?? -1)) {
    holds.set(runId, held.holds);
  }
  return { ...result, suggestions: held.suggestions, notes: [...result.notes, ...held.notes], runId, simulated: run.simulated };
}

async function loadLayers(db: Db, runId: string, step: number, coords: Map<number, RankCoords>): Promise<AdvisorLayerObservation[]> {
  const rows = await db.prisma.layerReport.findMany({
    where: { runId, step },
  });
  const byLayer = new Map<number, AdvisorLayerObservation>();
  for (const r of rows) {
    const c = coords.get(r.rank);
    if (!c) continue;
    let obs = byLayer.get(r.layer);
    if (!obs) byLayer.set(r.layer, (obs = { layer: r.layer, reports: [] }));
    obs.reports.push({ rank: r.rank, coords: c, ...layerReportFromRow(r.step, r) });
  }
  return [...byLayer.values()].sort((a, b) => a.layer - b.layer);
}

/** Peak memory per rank and step next to the tokens its EP rank received that step (all its MoE layers). */
async function loadMemory(db: Db, run: RunRecord, upTo: number, coords: Map<number, RankCoords>): Promise<MemoryObservation[]> {
  const from = Math.max(0, upTo - MEMORY_WINDOW_STEPS + 1);
  const samples = await db.prisma.stepSample.findMany({
    where: { runId: run.id, step: { gte: from, lte: upTo }, peakAllocatedBytes: { not: null } },
    select: { rank: true, step: true, peakAllocatedBytes: true },
  });
  if (samples.length === 0) return [];
  const reports = await db.prisma.layerReport.findMany({ where: { runId: run.id, step: { gte: from, lte: upTo } } });
  // (step, layer) -> the ranks' counts; then the EP-rank load of each dispatch group.
  const groups = new Map<string, Array<{ rank: number; coords: RankCoords; tokensPerExpert: number[] }>>();
  for (const r of reports) {
    const c = coords.get(r.rank);
    if (!c) continue;
    const k = `${r.step}/${r.layer}`;
    let list = groups.get(k);
    if (!list) groups.set(k, (list = []));
    list.push({ rank: r.rank, coords: c, ...layerReportFromRow(r.step, r) });
  }
  const received = new Map<string, number>(); // step/rank -> tokens received over the rank's layers
  for (const [k, list] of groups) {
    const step = Number(k.split("/")[0]);
    let ep;
    try {
      ep = computeEpLoad(list, run.config);
    } catch {
      continue; // an inconsistent step is left out of the fit rather than failing the advice
    }
    const byGroup = new Map(ep.groups.map((g) => [`${g.edp}/${g.pp}`, g]));
    for (const [rank, c] of coords) {
      const g = byGroup.get(`${c.edp}/${c.pp}`);
      if (!g) continue;
      const key = `${step}/${rank}`;
      received.set(key, (received.get(key) ?? 0) + (g.received[c.ep] ?? 0));
    }
  }
  const out: MemoryObservation[] = [];
  for (const s of samples) {
    const tokens = received.get(`${s.step}/${s.rank}`);
    if (tokens === undefined) continue;
    out.push({ rank: s.rank, step: s.step, peakAllocatedBytes: Number(s.peakAllocatedBytes), receivedTokens: tokens });
  }
  return out;
}

/**
 * The worst-over-layers history the advisor reads at `step`: every complete step of its stable window, the
 * run's first complete step (does the history reach back to the window's start?) and the last complete
 * step at or before `step` (its values stand in when that step has no reports). classifyHistory looks at
 * nothing else, so this gives the same advice as the whole history without grouping every aggregate of a
 * 100k-step run on each request (that took 10-27 s and blocked the dashboard's synchronous SQLite driver).
 */
export async function loadHistory(db: Db, runId: string, step: number): Promise<HistoryPoint[]> {
  const p = db.sql.param;
  const complete = `"runId" = ${p(1)} AND "ranksReported" >= "ranksExpected"`;
  const edge = async (where: string, order: "ASC" | "DESC", at: number | null): Promise<number | null> => {
    const rows = (await db.prisma.$queryRawUnsafe(
      `SELECT "step" FROM "LayerAggregate" WHERE ${complete}${where} ORDER BY "step" ${order} LIMIT 1`,
      ...(at === null ? [runId] : [runId, at]),
    )) as Array<{ step: number | bigint }>;
    return rows.length > 0 ? Number(rows[0].step) : null;
  };
  const first = await edge("", "ASC", null);
  const last = await edge(` AND "step" <= ${p(2)}`, "DESC", step);
  if (first === null || last === null) return [];
  const from = Math.max(first, step - DEFAULT_ADVISOR_OPTIONS.stableWindowSteps + 1);
  const points = await historyBetween(db, runId, Math.min(from, last), step);
  if (first < from && points[0]?.step !== first) points.unshift(...(await historyBetween(db, runId, first, first)));
  return points;
}

export async function historyBetween(db: Db, runId: string, from: number, to: number): Promise<HistoryPoint[]> {
  const p = db.sql.param;
  const rows = (await db.prisma.$queryRawUnsafe(
    `SELECT "step", MAX("epImbalance") AS ep, MAX("maxVio") AS vio, MAX("zLoss") AS z
       FROM "LayerAggregate" WHERE "runId" = ${p(1)} AND "step" >= ${p(2)} AND "step" <= ${p(3)} AND "ranksReported" >= "ranksExpected"
      GROUP BY "step" ORDER BY "step"`,
    runId,
    from,
    to,
  )) as Array<{ step: number | bigint; ep: number | null; vio: number | null; z: number | null }>;
  return rows.map((r) => ({
    step: Number(r.step),
    epImbalance: r.ep === null ? null : Number(r.ep),
    maxVio: r.vio === null ? null : Number(r.vio),
    zLoss: r.z === null ? null : Number(r.z),
  }));
}
