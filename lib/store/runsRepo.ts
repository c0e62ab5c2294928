/**
 * Runs, ranks and events: metadata written and read through Prisma's ORM. Rows are mapped to plain
 * domain objects here; Prisma types do not leave this module.
 */
import { coordsFromRow } from "./layerReportRows";
import { randomUUID } from "node:crypto";
import { Conflict, InvalidInput, NotFound } from "../analysis/errors";
import { moeLayerNumbers } from "../analysis/parseMoeLayerFreq";
import { validateRunConfig } from "../analysis/validateRunConfig";
import { checkEventLimits, checkOomLimits, checkRankInfoLimits, checkRunInfoLimits } from "../wire/checkInputLimits";
import { checkStringLength } from "../wire/limits";
import type { OomEvent, RankInfo, RunConfig, RunInfo } from "../analysis/types";
import type { Db } from "./db";
import type { Run as RunRow, Rank as RankRow } from "../../generated/prisma/client";

/** RunRecord: a stored run as the collector and the queries need it. */
export interface RunRecord {
  id: string;
  runKey: string;
  name: string;
  status: string;
  simulated: boolean;
  config: RunConfig;
  commandLine: string[];
  worldSize: number;
  gpusPerNode: number;
  gpuMemoryBytes: number;
  framework: string;
  frameworkVersion: string;
  numExperts: number;
  topk: number;
  numLayers: number;
  moeLayers: number[];
  lastStep: number | null;
  createdAt: Date;
  lastSeenMs: number | null;
  version: number;
  /** The project whose ingest token registered the run; null when ingest authentication was off. */
  projectId: string | null;
}

/** RankRecord: a stored rank. */
export interface RankRecord extends RankInfo {
  runId: string;
  durableSeq: number;
  droppedBatches: number;
  lastSeenMs: number | null;
}

/** runFromRow maps a Prisma row to a RunRecord. */
export function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    runKey: row.runKey,
    name: row.name,
    status: row.status,
    simulated: row.simulated,
    config: JSON.parse(row.configJson) as RunConfig,
    commandLine: JSON.parse(row.commandLine) as string[],
    worldSize: row.worldSize,
    gpusPerNode: row.gpusPerNode,
    gpuMemoryBytes: Number(row.gpuMemoryBytes),
    framework: row.framework,
    frameworkVersion: row.frameworkVersion,
    numExperts: row.numExperts,
    topk: row.topk,
    numLayers: row.numLayers,
    moeLayers: JSON.parse(row.moeLayers) as number[],
    lastStep: row.lastStep,
    createdAt: row.createdAt,
    lastSeenMs: row.lastSeenMs === null ? null : Number(row.lastSeenMs),
    version: Number(row.version),
    projectId: row.projectId,
  };
}

/** rankFromRow maps a Prisma row to a RankRecord. */
export function rankFromRow(row: RankRow): RankRecord {
  return {
    runId: row.runId,
    rank: row.rank,
    host: row.host,
    device: row.device,
    coords: coordsFromRow(row),
    durableSeq: Number(row.durableSeq),
    droppedBatches: Number(row.droppedBatches),
    lastSeenMs: row.lastSeenMs === null ? null : Number(row.lastSeenMs),
  };
}

// Fields whose change would make stored data mean something else: a re-registration must match them.
const IDENTITY_FIELDS: Array<keyof RunConfig> = [
  "num_layers",
  "num_experts",
  "moe_router_topk",
  "moe_layer_freq",
  "tensor_model_parallel_size",
  "pipeline_model_parallel_size",
  "context_parallel_size",
  "expert_model_parallel_size",
  "expert_tensor_parallel_size",
  "sequence_parallel",
];

// A layout Megatron would refuse to build cannot have produced telemetry, and the analysis cannot map
// its ranks and layers: such a registration is rejected. Rules about batch sizes, sequence parallelism or
// biases do not change what the telemetry means and are left to the config check.
const STRUCTURAL_RULES = new Set([
  "positive-integer-sizes",
  "topk-within-experts",
  "world-divisible-by-tp-pp-cp",
  "world-divisible-by-etp-ep-pp",
  "experts-divisible-by-ep",
  "pipeline-split",
  "moe-layer-freq",
]);

/**
 * registerRun stores a run, or returns the existing run with the same runKey (idempotent). A new run
 * belongs to `projectId` (null without ingest authentication); whether the caller may use an existing
 * run of another project is the caller's decision (the collector answers PERMISSION_DENIED).
 */
export async function registerRun(
  db: Db,
  info: RunInfo,
  projectId: string | null = null,
): Promise<{ run: RunRecord; created: boolean }> {
  // Sizes first: nothing oversized reaches the config rules, the database or the dashboard.
  checkRunInfoLimits(info);
  const broken = validateRunConfig(info.config, { worldSize: info.worldSize }).filter(
    (v) => v.severity === "error" && STRUCTURAL_RULES.has(v.rule),
  );
  if (broken.length > 0) {
    throw new InvalidInput(`config: ${broken.map((v) => `${v.message} [${v.rule}]`).join("; ")}`, "config");
  }
  const moeLayers = moeLayerNumbers(info.config);
  const existing = await db.prisma.run.findUnique({ where: { runKey: info.runKey } });
  if (existing) {
    const run = runFromRow(existing);
    const differs = IDENTITY_FIELDS.filter(
      (f) => JSON.stringify(run.config[f] ?? null) !== JSON.stringify(info.config[f] ?? null),
    );
    if (differs.length > 0 || run.worldSize !== info.worldSize) {
      const what = [...differs, ...(run.worldSize !== info.worldSize ? ["world_size"] : [])]
        .map((f) => `${f} (stored ${JSON.stringify(f === "world_size" ? run.worldSize : run.config[f as keyof RunConfig])}, sent ${JSON.stringify(f === "world_size" ? info.worldSize : info.config[f as keyof RunConfig])})`)
        .join(", ");
      throw new Conflict(`run_key "${info.runKey}" is already registered with a different layout: ${what}; use a new run_key`, "run_key");
    }
    return { run, created: false };
  }
  try {
    const row = await db.prisma.run.create({
      data: {
        id: randomUUID(),
        runKey: info.runKey,
        name: info.name || info.runKey,
        simulated: info.simulated,
        configJson: JSON.stringify(info.config),
        commandLine: JSON.stringify(info.commandLine),
        worldSize: info.worldSize,
        gpusPerNode: info.gpusPerNode,
        gpuMemoryBytes: BigInt(info.gpuMemoryBytes),
        framework: info.framework,
        frameworkVersion: info.frameworkVersion,
        numExperts: info.config.num_experts,
        topk: info.config.moe_router_topk,
        numLayers: info.config.num_layers,
        moeLayers: JSON.stringify(moeLayers),
        projectId,
      },
    });
    return { run: runFromRow(row), created: true };
  } catch (err) {
    // Two ranks (or collectors) registering the same run at once: the loser reads the winner's row.
    const again = await db.prisma.run.findUnique({ where: { runKey: info.runKey } });
    if (again) return { run: runFromRow(again), created: false };
    throw err;
  }
}

/** findRunByKey returns the run registered under runKey, or throws NotFound. */
export async function findRunByKey(db: Db, runKey: string): Promise<RunRecord> {
  // Checked before the lookup: PostgreSQL refuses a NUL character in a query parameter (an INTERNAL error,
  // found by the fuzz test), and an over-long key cannot name a registered run anyway.
  checkStringLength("run_key", runKey, "maxRunKey");
  const row = await db.prisma.run.findUnique({ where: { runKey } });
  if (!row) throw new NotFound(`run "${runKey}" is not registered: call RegisterRun first`, "run_key");
  return runFromRow(row);
}

/** findRunById returns the run with this id, or null when there is none. */
export async function findRunById(db: Db, runId: string): Promise<RunRecord | null> {
  const row = await db.prisma.run.findUnique({ where: { id: runId } });
  return row ? runFromRow(row) : null;
}

/** validateRank checks a rank's hello against its run's layout. */
export function validateRank(run: RunRecord, info: RankInfo): void {
  if (!Number.isInteger(info.rank) || info.rank < 0 || info.rank >= run.worldSize) {
    throw new InvalidInput(`rank ${info.rank} is outside the run's world size ${run.worldSize}`, "hello.rank");
  }
  const c = run.config;
  const limits: Array<[keyof RankInfo["coords"], number]> = [
    ["tp", c.tensor_model_parallel_size],
    ["cp", c.context_parallel_size],
    ["pp", c.pipeline_model_parallel_size],
    ["ep", c.expert_model_parallel_size],
    ["etp", c.expert_tensor_parallel_size ?? c.tensor_model_parallel_size],
  ];
  for (const [name, size] of limits) {
    const v = info.coords[name] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v >= size) {
      throw new InvalidInput(`hello.coords.${name} is ${v}, expected 0..${size - 1} for this run`, `hello.coords.${name}`);
    }
  }
}

/** upsertRank stores or refreshes a rank's hello and returns its durable sequence number. */
export async function upsertRank(db: Db, runId: string, info: RankInfo, client: string): Promise<RankRecord> {
  checkRankInfoLimits(info, client);
  const data = {
    host: info.host,
    device: info.device,
    client,
    ...info.coords,
    vpp: info.coords.vpp ?? null,
  };
  const row = await db.prisma.rank.upsert({
    where: { runId_rank: { runId, rank: info.rank } },
    create: { runId, rank: info.rank, ...data },
    update: data,
  });
  return rankFromRow(row);
}

/**
 * instanceDurableSeq is the highest batch sequence number that one client process of a rank has made durable:
 * 0 for a process never seen (a restarted job) and for an anonymous one (empty instance), so such a client
 * resends everything it holds instead of taking another process's batches for its own.
 */
export async function instanceDurableSeq(db: Db, runId: string, rank: number, instance: string): Promise<number> {
  if (!instance) return 0;
  const row = await db.prisma.rankInstance.findUnique({ where: { runId_rank_instance: { runId, rank, instance } }, select: { durableSeq: true } });
  return row ? Number(row.durableSeq) : 0;
}

/** listRanks returns the ranks of a run. */
export async function listRanks(db: Db, runId: string): Promise<RankRecord[]> {
  const rows = await db.prisma.rank.findMany({ where: { runId }, orderBy: { rank: "asc" } });
  return rows.map(rankFromRow);
}

/** recordOom stores an OOM event and marks the run as died of OOM. */
export async function recordOom(db: Db, run: RunRecord, oom: OomEvent): Promise<string> {
  checkOomLimits(oom, run);
  const id = randomUUID();
  const m = oom.memory;
  await db.prisma.$transaction([
    db.prisma.runEvent.create({
      data: {
        id,
        runId: run.id,
        rank: oom.rank,
        kind: "oom",
        step: oom.step,
        layer: oom.layer ?? null,
        phase: oom.phase || null,
        message: oom.message,
        allocatedBytes: m ? BigInt(m.allocatedBytes) : null,
        reservedBytes: m ? BigInt(m.reservedBytes) : null,
        peakAllocatedBytes: m ? BigInt(m.peakAllocatedBytes) : null,
        numOoms: m ? BigInt(m.numOoms) : null,
        numAllocRetries: m ? BigInt(m.numAllocRetries) : null,
        requestedBytes: oom.requestedBytes === undefined ? null : BigInt(oom.requestedBytes),
        wallTimeMs: oom.wallTimeMs ?? null,
      },
    }),
    db.prisma.run.update({ where: { id: run.id }, data: { status: "oom", version: { increment: 1 } } }),
  ]);
  return id;
}

/** recordRunEvent stores a crash or finish event and updates the run's status. */
export async function recordRunEvent(
  db: Db,
  run: RunRecord,
  ev: { rank: number; kind: "crash" | "finished"; step: number; message: string; wallTimeMs?: number },
): Promise<string> {
  checkEventLimits(ev, run.worldSize);
  const id = randomUUID();
  // A finish from one rank does not finish a run that another rank reported as crashed or OOM.
  const status = ev.kind === "crash" ? "crashed" : run.status === "running" ? "finished" : run.status;
  await db.prisma.$transaction([
    db.prisma.runEvent.create({
      data: { id, runId: run.id, rank: ev.rank, kind: ev.kind, step: ev.step, message: ev.message, wallTimeMs: ev.wallTimeMs ?? null },
    }),
    db.prisma.run.update({ where: { id: run.id }, data: { status, version: { increment: 1 } } }),
  ]);
  return id;
}

/**
 * claimRun gives a run registered without authentication (no project) to `projectId`, once: if another
 * project claimed it first, the stored owner wins. Returns the run as stored afterwards.
 */
export async function claimRun(db: Db, run: RunRecord, projectId: string): Promise<RunRecord> {
  if (run.projectId !== null) return run;
  await db.prisma.run.updateMany({ where: { id: run.id, projectId: null }, data: { projectId } });
  const row = await db.prisma.run.findUnique({ where: { id: run.id } });
  if (!row) throw new NotFound(`run "${run.runKey}" disappeared while being claimed`, "run_key");
  return runFromRow(row);
}
