/**
 * Outgoing alert webhooks: a Slack-compatible JSON body (`text` plus `attachments`, which Slack,
 * Mattermost and most chat bridges accept; the structured alert rides along under `moe_alert`),
 * retried with the product's jittered exponential back-off (lib/runtime/backoff.ts), every attempt written to the delivery log of every alert episode
 * the message covers. One message per (run, rule) group (the AlertEngine decides when, with
 * Alertmanager's group timers), never one per layer. Never blocks ingest.
 */
import { backoffDelayMs } from "../lib/runtime/backoff";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Db } from "../lib/store/db";

/** AlertNotificationMember: one layer or rank of a notified group. */
export interface AlertNotificationMember {
  alertId: string;
  layer: number | null;
  rank: number | null;
  value: number;
  step: number;
}

/** AlertNotification: what a webhook says about one (run, rule) alert group; layer, rank, value and step are its worst member's. */
export interface AlertNotification {
  /** "runId|ruleId". */
  groupKey: string;
  /** The worst member's episode (of the last firing member when the group resolved). */
  alertId: string;
  event: "firing" | "renotify" | "resolved";
  runId: string;
  runName: string;
  ruleId: string;
  severity: string;
  layer: number | null;
  rank: number | null;
  value: number;
  step: number;
  threshold: number;
  /** Members firing now (none when the group resolved). */
  firing: AlertNotificationMember[];
  /** Members that resolved since the group's previous message. */
  resolved: AlertNotificationMember[];
  /** How many layers (or ranks) the run has, for "29 of 32". */
  of: number | null;
  message: string;
  /** Link to the run page (with the layer) where the advice is. */
  url: string | null;
}

const LISTED_MEMBERS = 40;

function memberLine(m: AlertNotificationMember): string {
  return `${m.layer !== null ? `layer ${m.layer}` : m.rank !== null ? `rank ${m.rank}` : "run"}: ${m.value.toPrecision(3)} at step ${m.step}`;
}

/** slackBody builds the Slack-compatible payload. */
export function slackBody(n: AlertNotification): Record<string, unknown> {
  const icon = n.event === "resolved" ? "RESOLVED" : n.severity === "critical" ? "CRITICAL" : "WARNING";
  return {
    text: `[${icon}] ${n.message}${n.url ? ` <${n.url}|open run>` : ""}`,
    attachments: [
      {
        color: n.event === "resolved" ? "#2eb67d" : n.severity === "critical" ? "#e01e5a" : "#ecb22e",
        fields: [
          { title: "rule", value: n.ruleId, short: true },
          { title: "firing", value: `${n.firing.length}${n.of !== null ? ` of ${n.of}` : ""}`, short: true },
          { title: "step", value: String(n.step), short: true },
          ...(n.layer !== null ? [{ title: "worst layer", value: String(n.layer), short: true }] : []),
          ...(n.rank !== null ? [{ title: "worst rank", value: String(n.rank), short: true }] : []),
          { title: "value", value: n.value.toPrecision(4), short: true },
          { title: "threshold", value: String(n.threshold), short: true },
        ],
        // The layers themselves, capped: a chat message listing 256 ranks is no better than 256 messages.
        text: [
          ...n.firing.slice(0, LISTED_MEMBERS).map(memberLine),
          ...(n.firing.length > LISTED_MEMBERS ? [`… and ${n.firing.length - LISTED_MEMBERS} more`] : []),
          ...(n.resolved.length > 0 ? [`resolved: ${n.resolved.map((m) => (m.layer !== null ? `layer ${m.layer}` : `rank ${m.rank}`)).join(", ")}`] : []),
        ].join("\n"),
      },
    ],
    moe_alert: n,
  };
}

/** WebhookNotifierOptions: targets, retry policy and injectable I/O. */
export interface WebhookNotifierOptions {
  db: Db;
  urls: string[];
  logger: Logger;
  maxAttempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** WebhookNotifier posts alert notifications to every configured URL. */
export class WebhookNotifier {
  private inflight = new Set<Promise<void>>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: WebhookNotifierOptions) {
    this.fetch = o.fetch ?? globalThis.fetch;
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** notify starts delivery to every URL and returns at once. */
  notify(n: AlertNotification): void {
    for (const url of this.o.urls) {
      const p = this.deliver(url, n).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  /** drain waits for deliveries under way (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async deliver(url: string, n: AlertNotification): Promise<void> {
    const max = this.o.maxAttempts ?? 5;
    const body = JSON.stringify(slackBody(n));
    for (let attempt = 1; attempt <= max; attempt++) {
      let ok = false;
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const res = await this.fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 5_000),
        });
        statusCode = res.status;
        ok = res.ok;
        if (!ok) error = `HTTP ${res.status}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      // Every episode the message covers gets the attempt in its delivery log (the alerts page shows it per episode).
      const alertIds = [...new Set([n.alertId, ...n.firing.map((m) => m.alertId), ...n.resolved.map((m) => m.alertId)])];
      const atMs = BigInt(this.now());
      await this.o.db.prisma.alertDelivery
        .createMany({
          data: alertIds.map((alertId) => ({ id: randomUUID(), alertId, event: n.event, url, attempt, ok, statusCode, error, atMs })),
        })
        .catch((err: unknown) => this.o.logger.error({ err }, "could not write the webhook delivery log"));
      if (ok) return;
      this.o.logger.warn({ url, attempt, error, group: n.groupKey }, "webhook delivery failed");
      if (attempt < max) {
        const base = this.o.baseDelayMs ?? 500;
        await this.sleep(backoffDelayMs(attempt - 1, [base, base * 64]));
      }
    }
  }
}
