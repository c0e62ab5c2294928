/**
 * The collector's alert adapter. It feeds what each flush stored into the pure rules and state machine
 * (lib/analysis/alerts), keeps every instance's state in the database (AlertInstance) and updates it
 * under a per-run lock, so any number of collectors behave as one: an alert fires once, whichever
 * collector received the report that crossed the threshold. It persists alert episodes, bumps the
 * run's version so open dashboards update at once, and hands notifications to the webhook notifier
 * after the commit. A non-overlapping 1 s tick advances the timers (hold, keep-firing, no-data).
 *
 * Notifications and the log speak of (run, rule) groups (lib/analysis/alerts/groupAlerts.ts): each group's
 * timer state (Alertmanager's group_wait/group_interval/repeat) is kept beside the instances, in an
 * AlertInstance row with scope "group", under the same lock, so several collectors send one message per
 * group per interval between them. Per-instance transitions are logged at debug.
 */
import { LRUCache } from "lru-cache";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { LayerAggregate } from "../lib/analysis/aggregateLayer";
import type { AlertRule, AlertRuleId, RuleOverrides } from "../lib/analysis/alerts/alertRules";
import { lossBaseline, signalsFromAggregate, signalsFromStepSample, type AlertSignal, type LossPoint } from "../lib/analysis/alerts/alertSignals";
import { decideGroupNotification, DEFAULT_GROUP_TIMING, type GroupNotifyState, type GroupTiming } from "../lib/analysis/alerts/decideGroupNotification";
import { evaluateAlert, INITIAL_ALERT_STATE, type AlertState, type Observation } from "../lib/analysis/alerts/evaluateAlert";
import { formatAlertMessage } from "../lib/analysis/alerts/formatAlert";
import { formatAlertGroup, groupAlerts, type GroupableAlert } from "../lib/analysis/alerts/groupAlerts";
import type { OomEvent } from "../lib/analysis/types";
import { effectiveRules } from "../lib/store/alertRulesStore";
import type { Db } from "../lib/store/db";
import type { PendingBatch, RefreshedAggregate } from "../lib/store/ingestStore";
import { runFromRow, type RunRecord } from "../lib/store/runsRepo";
import type { AlertNotification, AlertNotificationMember, WebhookNotifier } from "./WebhookNotifier";

type Tx = Parameters<Parameters<Db["prisma"]["$transaction"]>[0]>[0];

interface Instance {
  ruleId: AlertRuleId;
  scope: string;
  layer: number | null;
  rank: number | null;
  state: AlertState;
  labels: Record<string, string | number>;
  alertId: string | null;
  dirty: boolean;
}

/** AlertEngineOptions: storage, delivery, clock and rule sources. */
export interface AlertEngineOptions {
  db: Db;
  logger: Logger;
  notifier?: WebhookNotifier;
  fileOverrides?: RuleOverrides;
  /** Base URL of the dashboard, for links in notifications. */
  dashboardUrl?: string;
  now?: () => number;
  tickMs?: number;
  /** Group timers (Alertmanager's group_wait and group_interval); the repeat interval is each rule's renotifyMs. */
  grouping?: Partial<Pick<GroupTiming, "groupWaitMs" | "groupIntervalMs">>;
}

/** The scope of the AlertInstance row that holds a (run, rule) group's notification state. */
const GROUP_SCOPE = "group";

/** A group's stored notification state, with the episodes of the members its last message named. */
interface GroupRow {
  state: GroupNotifyState;
  members: Record<string, AlertNotificationMember>;
}

// Short, so a rule edited in the UI applies within a second or two; the read is one small row per run.
const RULES_TTL_MS = 1_000;

/** Runs whose rules are kept at once; a collector that hears from more reads the least recent again. */
const MAX_RULE_CACHE_RUNS = 1_024;
/** A quiet instance's "last data" time is refreshed in the database at most this often. */
const LAST_DATA_REFRESH_MS = 5_000;

/**
 * needsWrite decides whether an instance's new state must be stored. Most observations leave an
 * inactive instance inactive; storing each would cost a write per layer and rank per step. What later
 * evaluations (here or on another collector) need is kept exact: status, effects, a pending/firing
 * instance's values and step counts, and a last-data time no older than LAST_DATA_REFRESH_MS (no-data detection
 * allows for that slack: its windows are tens of seconds).
 */
function needsWrite(prev: AlertState, next: AlertState, emitted: boolean, nowMs: number): boolean {
  if (emitted || prev.status !== next.status || prev.lastHeld !== next.lastHeld) return true;
  if (next.status === "pending" || next.status === "firing") {
    // The step counts decide the hold and the resolution: a constant value still moves them.
    return (
      prev.value !== next.value || prev.peakValue !== next.peakValue || prev.lastNotifiedMs !== next.lastNotifiedMs ||
      prev.heldSteps !== next.heldSteps || prev.healthySteps !== next.healthySteps
    );
  }
  return next.lastDataMs !== null && (prev.lastDataMs === null || nowMs - prev.lastDataMs >= LAST_DATA_REFRESH_MS);
}
const ENDED = new Set(["finished", "crashed", "oom"]);

function scopeParts(scope: string): { layer: number | null; rank: number | null } {
  const [kind, n] = scope.split(":");
  return { layer: kind === "layer" ? Number(n) : null, rank: kind === "rank" ? Number(n) : null };
}

/** AlertEngine evaluates alert rules as data arrives and on a timer. */
export class AlertEngine {
  /** Effective rules per run, read again after RULES_TTL_MS (an edit in the dashboard applies within it); bounded. */
  private readonly rules: LRUCache<string, Record<AlertRuleId, AlertRule>>;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: AlertEngineOptions) {
    this.now = o.now ?? Date.now;
    // The engine's own clock, so tests that move time move the cache's too.
    this.rules = new LRUCache({ max: MAX_RULE_CACHE_RUNS, ttl: RULES_TTL_MS, ttlAutopurge: false, perf: { now: () => this.now() } });
  }

  /** start starts the timer (state lives in the database, so nothing needs restoring). */
  async start(): Promise<void> {
    const every = this.o.tickMs ?? 1_000;
    this.timer = setInterval(() => {
      if (!this.ticking) this.ticking = this.tick(this.now()).finally(() => (this.ticking = null));
    }, every);
    this.timer.unref();
  }

  /** stop stops the timer and waits for evaluations and deliveries under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await this.queue;
    await this.o.notifier?.drain();
  }

  /** afterFlush evaluates what a flush stored. Runs after the commit; never throws into ingest. */
  afterFlush(batches: PendingBatch[], refreshed: RefreshedAggregate[], nowMs: number = this.now()): Promise<void> {
    return this.enqueue(async () => {
      const runs = new Map<string, { run: RunRecord; aggregates: LayerAggregate[]; batches: PendingBatch[] }>();
      const entry = (run: RunRecord) => {
        let e = runs.get(run.id);
        if (!e) runs.set(run.id, (e = { run, aggregates: [], batches: [] }));
        return e;
      };
      // Partial aggregates under-count the ranks still to come: judge a (step, layer) once it is complete.
      for (const r of refreshed) if (r.aggregate.ranksReported >= r.aggregate.ranksExpected) entry(r.run).aggregates.push(r.aggregate);
      for (const b of batches) if (b.steps.length > 0) entry(b.run).batches.push(b);
      for (const e of runs.values()) await this.evaluateRun(e.run, nowMs, (tx, inst) => this.signalsOf(tx, e.run, e.aggregates, e.batches, inst));
    });
  }

  /** observeOom fires the OOM alert of a rank; the run is dead, so its other alerts resolve (see runEnded). */
  observeOom(run: RunRecord, oom: OomEvent, nowMs: number = this.now()): Promise<void> {
    return this.enqueue(async () => {
      const labels: Record<string, string | number> = { phase: oom.phase, ...(oom.layer !== undefined ? { layer: oom.layer } : {}) };
      await this.evaluateRun({ ...run, status: "oom" }, nowMs, async () => [
        { ruleId: "oom", scope: `rank:${oom.rank}`, layer: null, rank: oom.rank, value: 1, step: oom.step, labels },
      ]);
    });
  }

  /** runEnded resolves the alerts of a finished, crashed or dead run (except its OOM) and stops its watches. */
  runEnded(run: RunRecord, status: string, nowMs: number = this.now()): Promise<void> {
    return this.enqueue(() => this.evaluateRun({ ...run, status }, nowMs, async () => []));
  }

  /** tick advances the timers of every run that has live alert instances. */
  async tick(nowMs: number): Promise<void> {
    await this.enqueue(async () => {
      const rows = await this.o.db.prisma.alertInstance.findMany({ select: { runId: true }, distinct: ["runId"] });
      if (rows.length === 0) return;
      const runs = await this.o.db.prisma.run.findMany({ where: { id: { in: rows.map((r) => r.runId) } } });
      for (const row of runs) await this.evaluateRun(runFromRow(row), nowMs, async () => []);
    });
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    // One evaluation at a time per collector, in arrival order; an error is logged, never passed to ingest.
    this.queue = this.queue.then(fn).catch((err: unknown) => this.o.logger.error({ err }, "alert evaluation failed"));
    return this.queue;
  }

  private async rulesFor(runId: string): Promise<Record<AlertRuleId, AlertRule>> {
    const hit = this.rules.get(runId);
    if (hit) return hit;
    const rules = await effectiveRules(this.o.db, runId, this.o.fileOverrides);
    this.rules.set(runId, rules);
    return rules;
  }

  /** The observations of one flush, in step order; loss history and retry baselines come from the database. */
  private async signalsOf(
    tx: Tx,
    run: RunRecord,
    aggregates: LayerAggregate[],
    batches: PendingBatch[],
    inst: Map<string, Instance>,
  ): Promise<AlertSignal[]> {
    const rules = await this.rulesFor(run.id);
    const window = Math.max(rules["aux-loss-spike"].window, rules["z-loss-spike"].window);
    const capacitySet = run.config.moe_expert_capacity_factor !== undefined;
    const out: AlertSignal[] = [];
    const sorted = [...aggregates].sort((a, b) => a.step - b.step);
    // The spike rules' baselines: the complete aggregates just before these steps, in one query.
    const spikes = rules["aux-loss-spike"].enabled || rules["z-loss-spike"].enabled;
    const history = new Map<number, LossPoint[]>();
    if (spikes && sorted.length > 0) {
      const rows = await tx.layerAggregate.findMany({
        where: {
          runId: run.id,
          layer: { in: [...new Set(sorted.map((a) => a.layer))] },
          step: { gte: Math.max(0, sorted[0].step - 4 * window), lt: sorted[sorted.length - 1].step },
        },
        select: { layer: true, step: true, loadBalancingLoss: true, zLoss: true, ranksReported: true, ranksExpected: true },
        orderBy: { step: "asc" },
      });
      for (const r of rows) {
        if (r.ranksReported < r.ranksExpected) continue;
        let list = history.get(r.layer);
        if (!list) history.set(r.layer, (list = []));
        list.push({ step: r.step, aux: r.loadBalancingLoss, z: r.zLoss });
      }
    }
    for (const agg of sorted) {
      const previous = lossBaseline(history.get(agg.layer) ?? [], agg.step, {
        aux: rules["aux-loss-spike"].window,
        z: rules["z-loss-spike"].window,
      });
      for (const s of signalsFromAggregate(agg, previous)) {
        if (s.ruleId !== "drop-fraction-high" || capacitySet) out.push(s);
      }
    }
    const samples = batches.flatMap((b) => b.steps.map((s) => ({ rank: b.rank, s }))).sort((a, b) => a.s.step - b.s.step);
    // Each rank's retry baseline: the last count its instance saw, then each sample of this flush in turn.
    const baseline = new Map<number, { step: number; numAllocRetries: number }>();
    for (const { rank, s } of samples) {
      if (!baseline.has(rank)) {
        const i = inst.get(`alloc-retries-growing|rank:${rank}`);
        if (i && i.state.step !== null && i.labels.numAllocRetries !== undefined) {
          baseline.set(rank, { step: i.state.step, numAllocRetries: Number(i.labels.numAllocRetries) });
        }
      }
      out.push(...signalsFromStepSample(rank, s, baseline.get(rank), run.gpuMemoryBytes));
      if (s.memory) baseline.set(rank, { step: s.step, numAllocRetries: s.memory.numAllocRetries });
    }
    return out;
  }

  /**
   * evaluateRun loads the run's instances under the run's lock, applies the observations (then the
   * timers to every other instance), writes back what changed, and notifies after the commit.
   */
  private async evaluateRun(
    run: RunRecord,
    nowMs: number,
    observe: (tx: Tx, instances: Map<string, Instance>) => Promise<AlertSignal[]>,
  ): Promise<void> {
    const rules = await this.rulesFor(run.id);
    const notifications: AlertNotification[] = [];
    // Whether an episode fired or resolved: open dashboards must re-read (group messages come later, on their timers).
    const changed = { value: false };
    const ended = ENDED.has(run.status);
    await this.o.db.prisma.$transaction(
      async (tx) => {
        if (this.o.db.sql.name === "postgresql") {
          await tx.$queryRawUnsafe(`SELECT CAST(pg_advisory_xact_lock(hashtext($1)) AS TEXT) AS locked`, `alerts:${run.id}`);
        }
        const rows = await tx.alertInstance.findMany({ where: { runId: run.id } });
        const instances = new Map<string, Instance>();
        const groups = new Map<AlertRuleId, GroupRow>();
        for (const r of rows) {
          if (r.scope === GROUP_SCOPE) {
            groups.set(r.ruleId as AlertRuleId, { state: JSON.parse(r.state) as GroupNotifyState, members: JSON.parse(r.labels) as GroupRow["members"] });
            continue;
          }
          instances.set(`${r.ruleId}|${r.scope}`, {
            ruleId: r.ruleId as AlertRuleId, scope: r.scope, ...scopeParts(r.scope),
            state: JSON.parse(r.state) as AlertState, labels: JSON.parse(r.labels) as Instance["labels"], alertId: r.alertId, dirty: false,
          });
        }
        const seen = new Set<string>();
        for (const s of await observe(tx, instances)) {
          const k = `${s.ruleId}|${s.scope}`;
          let inst = instances.get(k);
          if (!inst) {
            inst = { ruleId: s.ruleId, scope: s.scope, layer: s.layer, rank: s.rank, state: { ...INITIAL_ALERT_STATE }, labels: {}, alertId: null, dirty: true };
            instances.set(k, inst);
          }
          // A late resend of a step this instance already judged (here or on another collector) is skipped.
          if (s.ruleId !== "oom" && inst.state.step !== null && s.step <= inst.state.step) continue;
          if (ended && s.ruleId !== "oom") continue; // late data of a run that ended judges nothing
          inst.labels = { ...inst.labels, ...s.labels };
          if (await this.apply(tx, run, inst, { value: s.value, step: s.step }, rules[inst.ruleId], nowMs)) changed.value = true;
          seen.add(k);
        }
        for (const [k, inst] of instances) {
          if (seen.has(k)) continue;
          if (ended && inst.ruleId !== "oom") {
            // A run that ended sends nothing more: its alerts resolve now (the episode keeps its history)
            // and its watches stop, instead of firing on forever or on the silence that follows.
            if (inst.state.status === "firing" || inst.state.status === "pending") {
              if (await this.apply(tx, run, inst, null, { ...rules[inst.ruleId], enabled: false }, nowMs)) changed.value = true;
            }
            await tx.alertInstance.deleteMany({ where: { runId: run.id, ruleId: inst.ruleId, scope: inst.scope } });
            instances.delete(k);
            continue;
          }
          if (await this.apply(tx, run, inst, null, rules[inst.ruleId], nowMs)) changed.value = true;
        }
        await this.writeInstances(tx, run.id, [...instances.values()].filter((i) => i.dirty), nowMs);
        await this.advanceGroups(tx, run, rules, instances, groups, nowMs, notifications);
        if (changed.value) await tx.run.update({ where: { id: run.id }, data: { version: { increment: 1 } } });
      },
      { timeout: 60_000, maxWait: 60_000 },
    );
    for (const n of notifications) this.o.notifier?.notify(n);
  }

  /** writeInstances upserts changed instances with multi-row statements (the ORM costs ~0.2 ms a row). */
  private async writeInstances(tx: Tx, runId: string, dirty: Instance[], nowMs: number): Promise<void> {
    const sql = this.o.db.sql;
    const cols = ["runId", "ruleId", "scope", "state", "labels", "alertId", "updatedAtMs"];
    for (let i = 0; i < dirty.length; i += 200) {
      const chunk = dirty.slice(i, i + 200);
      await tx.$executeRawUnsafe(
        `INSERT INTO "AlertInstance" (${cols.map((c) => `"${c}"`).join(", ")}) VALUES ${sql.placeholders(chunk.length, cols.length)}
         ON CONFLICT ("runId", "ruleId", "scope") DO UPDATE SET "state" = excluded."state", "labels" = excluded."labels",
           "alertId" = excluded."alertId", "updatedAtMs" = excluded."updatedAtMs"`,
        ...chunk.flatMap((inst) => [runId, inst.ruleId, inst.scope, JSON.stringify(inst.state), JSON.stringify(inst.labels), inst.alertId, nowMs]),
      );
    }
  }

  private async apply(
    tx: Tx,
    run: RunRecord,
    inst: Instance,
    obs: Observation,
    rule: AlertRule,
    nowMs: number,
  ): Promise<boolean> {
    const prev = inst.state;
    const { state, emit } = evaluateAlert(inst.state, obs, rule, nowMs);
    inst.state = state;
    if (needsWrite(prev, state, emit.length > 0, nowMs)) inst.dirty = true;
    const s = state;
    const message = () => formatAlertMessage(rule, { runName: run.name, layer: inst.layer, rank: inst.rank, value: s.value ?? 0, step: s.step ?? 0, labels: inst.labels });
    for (const e of emit) {
      if (e === "firing") {
        inst.alertId = randomUUID();
        inst.dirty = true;
        await tx.alert.create({
          data: {
            id: inst.alertId, runId: run.id, ruleId: inst.ruleId, scope: inst.scope, layer: inst.layer, rank: inst.rank,
            severity: rule.severity, status: "firing", threshold: rule.threshold, value: s.value ?? 0, step: s.step ?? 0,
            peakValue: s.peakValue ?? s.value ?? 0, peakStep: s.peakStep ?? s.step ?? 0, lastValue: s.value, lastStep: s.step,
            labels: JSON.stringify(inst.labels), message: message(), startedAtMs: BigInt(s.activeSinceMs ?? nowMs), firedAtMs: BigInt(nowMs), updatedAtMs: BigInt(nowMs),
          },
        });
        // One line per layer would be ~200 lines when an untrained router trips 32 layers; the group's line is at info.
        this.o.logger.debug({ runKey: run.runKey, rule: inst.ruleId, scope: inst.scope, value: s.value, step: s.step }, message());
      } else if (e === "resolved" && inst.alertId) {
        await tx.alert.update({
          where: { id: inst.alertId },
          data: { status: "resolved", resolvedAtMs: BigInt(nowMs), lastValue: s.value, lastStep: s.step, updatedAtMs: BigInt(nowMs) },
        });
        this.o.logger.debug({ runKey: run.runKey, rule: inst.ruleId, scope: inst.scope, value: s.value, step: s.step }, `resolved: ${message()}`);
      }
      if (e === "resolved") inst.alertId = null;
    }
    // A firing alert whose peak or latest value moved: keep the stored episode current (the post-mortem reads it).
    if (obs && s.status === "firing" && inst.alertId && !emit.includes("firing")) {
      await tx.alert.update({
        where: { id: inst.alertId },
        data: { peakValue: s.peakValue ?? 0, peakStep: s.peakStep ?? 0, lastValue: s.value, lastStep: s.step, labels: JSON.stringify(inst.labels), updatedAtMs: BigInt(nowMs) },
      });
    }
    return emit.includes("firing") || emit.includes("resolved");
  }

  /**
   * advanceGroups runs each (run, rule) group's notification timers over the instances firing now, queues
   * the messages due, logs one info line per message, and stores the groups' state (deleting ended ones).
   */
  private async advanceGroups(
    tx: Tx,
    run: RunRecord,
    rules: Record<AlertRuleId, AlertRule>,
    instances: Map<string, Instance>,
    groups: Map<AlertRuleId, GroupRow>,
    nowMs: number,
    notifications: AlertNotification[],
  ): Promise<void> {
    const firing: Array<GroupableAlert & { scope: string }> = [];
    for (const i of instances.values()) {
      if (i.state.status !== "firing" || !i.alertId) continue;
      const rule = rules[i.ruleId];
      firing.push({
        id: i.alertId, scope: i.scope, runId: run.id, runName: run.name, ruleId: i.ruleId, severity: rule.severity, layer: i.layer, rank: i.rank,
        threshold: rule.threshold, value: i.state.value ?? 0, step: i.state.firingSinceStep ?? i.state.step ?? 0, lastValue: i.state.value, lastStep: i.state.step,
      });
    }
    const sizes = { layers: run.moeLayers.length, ranks: run.worldSize };
    const byRule = new Map(groupAlerts(firing, () => sizes).map((g) => [g.ruleId as AlertRuleId, g]));
    const timing = { ...DEFAULT_GROUP_TIMING, ...this.o.grouping };
    for (const ruleId of new Set([...byRule.keys(), ...groups.keys()])) {
      const g = byRule.get(ruleId);
      const prev = groups.get(ruleId) ?? null;
      const rule = rules[ruleId];
      const member = (a: (typeof firing)[number]): AlertNotificationMember => ({ alertId: a.id, layer: a.layer, rank: a.rank, value: a.lastValue ?? a.value, step: a.lastStep ?? a.step });
      const current = new Map((g?.members ?? []).map((a) => [a.scope, member(a)]));
      const decision = decideGroupNotification(prev?.state ?? null, [...current.keys()], nowMs, { ...timing, repeatIntervalMs: rule.renotifyMs });
      const known = { ...(prev?.members ?? {}), ...Object.fromEntries(current) };
      if (decision.send) {
        const resolved = decision.resolved.map((k) => known[k]).filter((m): m is AlertNotificationMember => m !== undefined);
        const worst = g ? member(g.worst) : resolved[resolved.length - 1];
        if (worst) {
          const units = g?.unit ?? (worst.layer !== null ? "layer" : "rank");
          const message = g
            ? `${run.name}: ${formatAlertGroup(g)}`
            : `${run.name}: ${ruleId} resolved on ${resolved.length} ${units}${resolved.length === 1 ? "" : "s"}`;
          notifications.push({
            groupKey: `${run.id}|${ruleId}`, alertId: worst.alertId, event: decision.send, runId: run.id, runName: run.name, ruleId, severity: rule.severity,
            layer: worst.layer, rank: worst.rank, value: worst.value, step: worst.step, threshold: rule.threshold,
            firing: [...current.values()], resolved, of: g?.of ?? null, message,
            url: this.o.dashboardUrl ? `${this.o.dashboardUrl.replace(/\/$/, "")}/runs/${run.id}${worst.layer !== null ? `?layer=${worst.layer}` : ""}` : null,
          });
          this.o.logger.info({ runKey: run.runKey, rule: ruleId, event: decision.send, firing: current.size, resolved: resolved.length }, message);
        }
      }
      if (decision.state === null) {
        if (prev) await tx.alertInstance.deleteMany({ where: { runId: run.id, ruleId, scope: GROUP_SCOPE } });
        continue;
      }
      if (prev && decision.state === prev.state && !decision.send) continue;
      // The members named in the last message, so a later "resolved" can name their episodes.
      const members = decision.send ? Object.fromEntries(decision.state.sent.map((k) => [k, known[k]]).filter(([, m]) => m)) : (prev?.members ?? {});
      await tx.$executeRawUnsafe(
        `INSERT INTO "AlertInstance" ("runId", "ruleId", "scope", "state", "labels", "alertId", "updatedAtMs") VALUES ${this.o.db.sql.placeholders(1, 7)}
         ON CONFLICT ("runId", "ruleId", "scope") DO UPDATE SET "state" = excluded."state", "labels" = excluded."labels", "updatedAtMs" = excluded."updatedAtMs"`,
        run.id, ruleId, GROUP_SCOPE, JSON.stringify(decision.state), JSON.stringify(members), null, nowMs,
      );
    }
  }
}
