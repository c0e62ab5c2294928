/**
 * The collector's alert adapter: feeds what each flush stored into the pure rules and state machine
 * (lib/analysis/alerts), persists alert episodes, bumps the run's version so open dashboards update
 * at once, and hands notifications to the webhook notifier. A 1 s non-overlapping tick advances
 * the timers (hold, keep-firing, no-data) when no data arrives.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { LayerAggregate } from "../analysis/aggregateLayer";
import { type AlertRule, type AlertRuleId, type RuleOverrides } from "../analysis/alerts/alertRules";
import { signalsFromAggregate, signalsFromStepSample, type AlertSignal } from "../analysis/alerts/alertSignals";
import { evaluateAlert, type AlertState, type Observation } from "../analysis/alerts/evaluateAlert";
import { formatAlertMessage } from "../analysis/alerts/formatAlert";
import type { OomEvent, StepSample } from "../analysis/types";
import { effectiveRules } from "./alertRulesStore";
import type { Db } from "./db";
import type { PendingBatch, RefreshedAggregate } from "./ingestStore";
import { runFromRow, type RunRecord } from "./runsRepo";
import type { AlertNotification, WebhookNotifier } from "./WebhookNotifier";

interface Instance {
  run: RunRecord;
  ruleId: AlertRuleId;
  scope: string;
  layer: number | null;
  rank: number | null;
  state: AlertState;
  labels: Record<string, string | number>;
  alertId: string | null;
  persistedPeak: number | null;
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
}

const HISTORY = 50;
const RULES_TTL_MS = 5_000;

/** AlertEngine evaluates alert rules as data arrives and on a timer. */
export class AlertEngine {
  private readonly instances = new Map<string, Instance>();
  private readonly rules = new Map<string, { rules: Record<AlertRuleId, AlertRule>; loadedMs: number }>();
  private readonly lossHistory = new Map<string, { aux: number[]; z: number[]; lastStep: number }>();
  private readonly lastSample = new Map<string, StepSample>();
  private readonly endedRuns = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: AlertEngineOptions) {
    this.now = o.now ?? Date.now;
  }

  /** start restores firing alerts from the database and starts the timer. */
  async start(): Promise<void> {
    const firing = await this.o.db.prisma.alert.findMany({ where: { status: "firing" }, include: { run: true } });
    for (const a of firing) {
      const run = runFromRow(a.run);
      const at = Number(a.updatedAtMs);
      this.instances.set(key(run.id, a.ruleId as AlertRuleId, a.scope), {
        run,
        ruleId: a.ruleId as AlertRuleId,
        scope: a.scope,
        layer: a.layer,
        rank: a.rank,
        labels: JSON.parse(a.labels) as Record<string, string | number>,
        alertId: a.id,
        persistedPeak: a.peakValue,
        state: {
          status: "firing", activeSinceMs: Number(a.startedAtMs), firingSinceMs: Number(a.firedAtMs), resolvedAtMs: null,
          lastTrueMs: at, lastDataMs: at, lastNotifiedMs: at, lastHeld: true,
          value: a.lastValue ?? a.value, step: a.lastStep ?? a.step, peakValue: a.peakValue, peakStep: a.peakStep,
        },
      });
      if (run.status !== "running") this.endedRuns.add(run.id);
    }
    const every = this.o.tickMs ?? 1_000;
    this.timer = setInterval(() => {
      if (!this.ticking) this.ticking = this.tick(this.now()).finally(() => (this.ticking = null));
    }, every);
    this.timer.unref();
  }

  /** stop stops the timer and waits for pending writes. */
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
      for (const { run, aggregate } of refreshed) await this.observeAggregate(run, aggregate, nowMs);
      for (const b of batches) {
        for (const s of b.steps) await this.observeStep(b.run, b.rank, s, nowMs);
      }
    });
  }

  /** observeOom fires the OOM alert of a rank and ends the run's no-data watch. */
  observeOom(run: RunRecord, oom: OomEvent, nowMs: number = this.now()): Promise<void> {
    return this.enqueue(async () => {
      const labels: Record<string, string | number> = { phase: oom.phase, ...(oom.layer !== undefined ? { layer: oom.layer } : {}) };
      await this.observe(run, { ruleId: "oom", scope: `rank:${oom.rank}`, layer: null, rank: oom.rank, value: 1, step: oom.step, labels }, nowMs);
      await this.runEnded(run.id, nowMs);
    });
  }

  /** runEnded stops the no-data watch of a finished, crashed or dead run (silent ranks are expected then). */
  runEnded(runId: string, nowMs: number = this.now()): Promise<void> {
    this.endedRuns.add(runId);
    return this.enqueue(async () => {
      for (const [k, inst] of this.instances) {
        if (inst.run.id !== runId || inst.ruleId !== "rank-silent") continue;
        if (inst.state.status === "firing") await this.persist(inst, "resolved", nowMs);
        this.instances.delete(k);
      }
    });
  }

  /** tick advances every instance's timers without new data. */
  async tick(nowMs: number): Promise<void> {
    await this.enqueue(async () => {
      for (const inst of [...this.instances.values()]) {
        if (inst.ruleId === "rank-silent" && this.endedRuns.has(inst.run.id)) continue;
        await this.evaluate(inst, null, nowMs);
      }
    });
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    // One evaluation at a time, in arrival order; an error is logged, never passed to ingest.
    this.queue = this.queue.then(fn).catch((err: unknown) => this.o.logger.error({ err }, "alert evaluation failed"));
    return this.queue;
  }

  private async rulesFor(runId: string, nowMs: number): Promise<Record<AlertRuleId, AlertRule>> {
    const hit = this.rules.get(runId);
    if (hit && nowMs - hit.loadedMs < RULES_TTL_MS) return hit.rules;
    const rules = await effectiveRules(this.o.db, runId, this.o.fileOverrides);
    this.rules.set(runId, { rules, loadedMs: nowMs });
    return rules;
  }

  private async observeAggregate(run: RunRecord, agg: LayerAggregate, nowMs: number): Promise<void> {
    // Partial aggregates under-count the ranks still to come: judge a (step, layer) once it is complete.
    if (agg.ranksReported < agg.ranksExpected) return;
    const hk = `${run.id}/${agg.layer}`;
    let h = this.lossHistory.get(hk);
    if (!h) this.lossHistory.set(hk, (h = { aux: [], z: [], lastStep: -1 }));
    if (agg.step <= h.lastStep) return; // a late resend of an older step: already judged
    const rules = await this.rulesFor(run.id, nowMs);
    const capacitySet = run.config.moe_expert_capacity_factor !== undefined;
    const signals = signalsFromAggregate(agg, { aux: h.aux.slice(-rules["aux-loss-spike"].window), z: h.z.slice(-rules["z-loss-spike"].window) });
    for (const s of signals) {
      if (s.ruleId === "drop-fraction-high" && !capacitySet) continue;
      await this.observe(run, s, nowMs);
    }
    h.lastStep = agg.step;
    if (agg.losses.load_balancing_loss !== undefined) push(h.aux, agg.losses.load_balancing_loss);
    if (agg.losses.z_loss !== undefined) push(h.z, agg.losses.z_loss);
  }

  private async observeStep(run: RunRecord, rank: number, sample: StepSample, nowMs: number): Promise<void> {
    const sk = `${run.id}/${rank}`;
    const prev = this.lastSample.get(sk);
    if (prev && sample.step <= prev.step) return;
    for (const s of signalsFromStepSample(rank, sample, prev, run.gpuMemoryBytes)) {
      if (s.ruleId === "rank-silent" && this.endedRuns.has(run.id)) continue;
      await this.observe(run, s, nowMs);
    }
    this.lastSample.set(sk, sample);
  }

  private async observe(run: RunRecord, s: AlertSignal, nowMs: number): Promise<void> {
    const k = key(run.id, s.ruleId, s.scope);
    let inst = this.instances.get(k);
    if (!inst) {
      inst = { run, ruleId: s.ruleId, scope: s.scope, layer: s.layer, rank: s.rank, state: evaluateAlert(undefined, null, (await this.rulesFor(run.id, nowMs))[s.ruleId], nowMs).state, labels: {}, alertId: null, persistedPeak: null };
      this.instances.set(k, inst);
    }
    inst.labels = { ...inst.labels, ...s.labels };
    await this.evaluate(inst, { value: s.value, step: s.step }, nowMs);
  }

  private async evaluate(inst: Instance, obs: Observation, nowMs: number): Promise<void> {
    const rule = (await this.rulesFor(inst.run.id, nowMs))[inst.ruleId];
    const { state, emit } = evaluateAlert(inst.state, obs, rule, nowMs);
    inst.state = state;
    for (const e of emit) {
      if (e === "firing" || e === "resolved" || e === "renotify") await this.persist(inst, e, nowMs, rule);
    }
    // A firing alert whose peak grew: keep the stored peak current (what the post-mortem shows).
    if (state.status === "firing" && inst.alertId && state.peakValue !== null && state.peakValue !== inst.persistedPeak && emit.length === 0) {
      inst.persistedPeak = state.peakValue;
      await this.o.db.prisma.alert.update({
        where: { id: inst.alertId },
        data: { peakValue: state.peakValue, peakStep: state.peakStep ?? 0, lastValue: state.value, lastStep: state.step, updatedAtMs: BigInt(nowMs) },
      });
    }
  }

  private async persist(inst: Instance, event: "firing" | "resolved" | "renotify", nowMs: number, ruleArg?: AlertRule): Promise<void> {
    const rule = ruleArg ?? (await this.rulesFor(inst.run.id, nowMs))[inst.ruleId];
    const s = inst.state;
    const message = formatAlertMessage(rule, {
      runName: inst.run.name,
      layer: inst.layer,
      rank: inst.rank,
      value: s.value ?? 0,
      step: s.step ?? 0,
      labels: inst.labels,
    });
    const db = this.o.db.prisma;
    if (event === "firing") {
      inst.alertId = randomUUID();
      inst.persistedPeak = s.peakValue;
      await db.$transaction([
        db.alert.create({
          data: {
            id: inst.alertId, runId: inst.run.id, ruleId: inst.ruleId, scope: inst.scope, layer: inst.layer, rank: inst.rank,
            severity: rule.severity, status: "firing", threshold: rule.threshold, value: s.value ?? 0, step: s.step ?? 0,
            peakValue: s.peakValue ?? s.value ?? 0, peakStep: s.peakStep ?? s.step ?? 0, lastValue: s.value, lastStep: s.step,
            labels: JSON.stringify(inst.labels), message, startedAtMs: BigInt(s.activeSinceMs ?? nowMs), firedAtMs: BigInt(nowMs), updatedAtMs: BigInt(nowMs),
          },
        }),
        db.run.update({ where: { id: inst.run.id }, data: { version: { increment: 1 } } }),
      ]);
      this.o.logger.warn({ runKey: inst.run.runKey, rule: inst.ruleId, scope: inst.scope, value: s.value, step: s.step }, message);
    } else if (event === "resolved" && inst.alertId) {
      await db.$transaction([
        db.alert.update({
          where: { id: inst.alertId },
          data: { status: "resolved", resolvedAtMs: BigInt(nowMs), lastValue: s.value, lastStep: s.step, updatedAtMs: BigInt(nowMs) },
        }),
        db.run.update({ where: { id: inst.run.id }, data: { version: { increment: 1 } } }),
      ]);
    }
    if (inst.alertId && this.o.notifier) {
      const n: AlertNotification = {
        alertId: inst.alertId, event, runId: inst.run.id, runName: inst.run.name, ruleId: inst.ruleId, severity: rule.severity,
        layer: inst.layer, rank: inst.rank, value: s.value ?? 0, step: s.step ?? 0, threshold: rule.threshold, message,
        url: this.o.dashboardUrl ? `${this.o.dashboardUrl.replace(/\/$/, "")}/runs/${inst.run.id}${inst.layer !== null ? `?layer=${inst.layer}` : ""}` : null,
      };
      this.o.notifier.notify(n);
    }
    if (event === "resolved") inst.alertId = null;
  }
}

function key(runId: string, ruleId: AlertRuleId, scope: string): string {
  return `${runId}|${ruleId}|${scope}`;
}

function push(xs: number[], v: number): void {
  xs.push(v);
  if (xs.length > HISTORY) xs.shift();
}
