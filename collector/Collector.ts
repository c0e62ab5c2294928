/**
 * The gRPC collector: validates what ranks send, buffers it, makes it durable in batched
 * transactions, acks only what is committed, and shuts down in order.
 */
import { LRUCache } from "lru-cache";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import { InvalidInput, NotFound, Unavailable } from "../lib/analysis/errors";
import { validateBatch, type Rejection } from "../lib/wire/validateBatch";
import { loadTelemetryProto } from "../lib/wire/loadTelemetryProto";
import {
  layerReportFromWire,
  oomFromWire,
  scalarFromWire,
  rankInfoFromWire,
  runInfoFromWire,
  stepSampleFromWire,
} from "../lib/wire/protoMapping";
import { batchContextOf, stageLayersOf } from "../lib/store/batchContext";
import type { Db } from "../lib/store/db";
import type { AlertEngine } from "./AlertEngine";
import { IngestBuffer } from "./IngestBuffer";
import { writeBatches, type PendingBatch } from "../lib/store/ingestStore";
import { refreshRollupsAfterFlush } from "../lib/store/rollups";
import {
  claimRun,
  findRunByKey,
  instanceDurableSeq,
  recordOom,
  recordRunEvent,
  registerRun,
  upsertRank,
  validateRank,
  type RunRecord,
} from "../lib/store/runsRepo";
import type { Batch__Output } from "../generated/proto/moe/telemetry/v1/Batch";
import type { ClientMessage__Output } from "../generated/proto/moe/telemetry/v1/ClientMessage";
import type { RankHello__Output } from "../generated/proto/moe/telemetry/v1/RankHello";
import type { ServerMessage } from "../generated/proto/moe/telemetry/v1/ServerMessage";
import type { TelemetryHandlers } from "../generated/proto/moe/telemetry/v1/Telemetry";
import { toServiceError } from "./toServiceError";
import { internalErrorId } from "../lib/runtime/internalError";
import { guardUnary, malformedReason, tolerantService } from "./decodeGuard";
import { checkBatchHeader, checkClientInstance } from "../lib/wire/checkInputLimits";
import { Admission, admissionSettings, estimateBatchBytes, overloadStatus, RunRate, StreamSlots, type AdmissionSettings, type Ticket } from "./admission";
import { Overloaded, StreamIdle } from "../lib/analysis/errors";
import { MemoryGovernor } from "./MemoryGovernor";
import { EventLoopLag } from "./EventLoopLag";
import { IngestAuth, serverCredentials, type IngestAuthOptions, type Principal, type ServerTls } from "./auth";

/** CollectorOptions: the database, a logger, and the flush policy. */
export interface CollectorOptions {
  db: Db;
  logger: Logger;
  flushIntervalMs?: number;
  flushMaxRecords?: number;
  /** Largest message accepted, bytes (default LIMITS.maxMessageBytes, 4 MiB). */
  maxMessageBytes?: number;
  /** Overload bounds (collector/admission.ts); unset fields come from COLLECTOR_* variables or the defaults. */
  admission?: Partial<AdmissionSettings>;
  now?: () => number;
  /** Evaluates alert rules after every flush; optional so ingest-only tools can run without it. */
  alerts?: AlertEngine;
  /**
   * Ingest-token checks. Default: on (a collector that forgot the option must not accept anonymous
   * data); in-process tools on 127.0.0.1 that own their collector pass { mode: "off" }.
   */
  auth?: IngestAuthOptions;
  /** TLS material (collector/auth.ts loadServerTls); plaintext without it. */
  tls?: ServerTls;
}

const SERVICE_NAME = "moe.telemetry.v1.Telemetry";

type StreamCall = grpc.ServerDuplexStream<ClientMessage__Output, ServerMessage>;

/** Collector is the gRPC server ranks stream to. */
export class Collector {
  private readonly server: grpc.Server;
  private readonly buffer: IngestBuffer;
  private readonly health = new HealthImplementation({ "": "NOT_SERVING", [SERVICE_NAME]: "NOT_SERVING" });
  // Runs and their stages' layers looked up by this collector: bounded, least recently used leave first.
  private readonly runs = new LRUCache<string, RunRecord>({ max: 10_000 });
  private readonly stageLayerCache = new LRUCache<string, Set<number>>({ max: 10_000 });
  private readonly streams = new Set<StreamCall>();
  private readonly helloTimers = new Map<StreamCall, NodeJS.Timeout>();
  private readonly slots: StreamSlots<StreamCall>;
  private readonly runRate: RunRate;
  private readonly log: Logger;
  private readonly admission: Admission;
  private readonly memory: MemoryGovernor;
  private readonly lag: EventLoopLag;
  private readonly now: () => number;
  private readonly auth: IngestAuth;
  private stats = { batches: 0, layerReports: 0, stepSamples: 0, rejected: 0 };

  constructor(private readonly opts: CollectorOptions) {
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.auth = new IngestAuth(opts.db, opts.logger, opts.auth ?? { mode: "on" });
    this.buffer = new IngestBuffer({
      write: async (batches, nowMs) => {
        const refreshed = await writeBatches(opts.db, batches, nowMs, (err, where) => this.log.error({ err, ...where }, "aggregate skipped"));
        // Evaluated after the commit and not awaited: alerting never delays an ack. Alerts read only the step
        // samples, so the queued evaluation must not keep every flushed layer report alive while it waits.
        void opts.alerts?.afterFlush(alertInputOf(batches), refreshed, nowMs);
        // Roll up the 64-step blocks this flush closed or changed (not awaited either; views fill any block missed).
        void refreshRollupsAfterFlush(opts.db, refreshed).catch((err: unknown) => this.log.error({ err }, "rollup refresh failed"));
      },
      intervalMs: opts.flushIntervalMs ?? 50,
      maxRecords: opts.flushMaxRecords ?? 20_000,
      now: this.now,
      onError: (err, n) => this.log.error({ err, batches: n }, "flush failed; the batches were not acked and will be resent"),
    });
    const settings = admissionSettings({ ...opts.admission, ...(opts.maxMessageBytes === undefined ? {} : { maxMessageBytes: opts.maxMessageBytes }) });
    // Real memory backs the estimates up (MemoryGovernor.ts): under pressure the collector counts as full.
    this.memory = new MemoryGovernor({ maxRssBytes: settings.maxRssBytes, onRelief: () => this.admission.notify() });
    this.lag = new EventLoopLag(settings.maxLoopDelayMs);
    this.admission = new Admission(settings, () => this.memory.underPressure, () => this.lag.behind);
    const limits = this.admission.settings;
    this.slots = new StreamSlots(limits.maxStreamsPerProject);
    this.runRate = new RunRate(limits.maxRunsPerMinute, this.now);
    this.server = new grpc.Server({
      "grpc.max_receive_message_length": limits.maxMessageBytes,
      "grpc.max_send_message_length": limits.maxMessageBytes,
      // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: one connection cannot open streams without end.
      "grpc.max_concurrent_streams": limits.maxStreamsPerConnection,
      // A ping every 30 s (10 s to answer) finds peers that vanished without closing TCP (a killed node).
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.keepalive_permit_without_calls": 1,
    });
    const proto = loadTelemetryProto();
    // Undecodable requests are the sender's fault: INVALID_ARGUMENT, not grpc-js's INTERNAL (collector/decodeGuard.ts).
    // An overloaded collector refuses a Write from its wire size, before decoding it.
    this.server.addService(
      tolerantService(proto.Telemetry.service, (method, bytes) => this.admission.refuseBeforeDecode(method, bytes)),
      guardUnary(this.handlers()),
    );
    this.health.addToServer(this.server);
  }

  /** listen binds host:port (0 picks a free port) and returns the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const bound = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, serverCredentials(this.opts.tls), (err, p) =>
        err ? reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`)) : resolve(p),
      );
    });
    this.health.setStatus("", "SERVING");
    this.health.setStatus(SERVICE_NAME, "SERVING");
    this.memory.start();
    this.lag.start();
    return bound;
  }

  /** shutdown stops accepting RPCs, waits for open streams up to `graceMs`, flushes and acks, then stops. */
  async shutdown(graceMs = 5_000): Promise<void> {
    this.health.setStatus("", "NOT_SERVING");
    this.health.setStatus(SERVICE_NAME, "NOT_SERVING");
    const closed = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    // Streams stay open until clients end them; after the grace period write what we have and cut them.
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
    const flushLoop = (async () => {
      while (this.streams.size > 0) {
        await this.buffer.flush();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    if ((await Promise.race([Promise.all([closed, flushLoop]), timer])) === "timeout") {
      await this.buffer.flush();
      this.server.forceShutdown();
    }
    await this.buffer.close();
    this.memory.stop();
    this.lag.stop();
    await this.opts.alerts?.stop();
    this.log.info(this.stats, "collector stopped");
  }

  /** counters returns ingest totals since start. */
  counters(): Readonly<typeof this.stats> {
    return { ...this.stats };
  }

  /** authEnabled tells whether ingest tokens are checked. */
  get authEnabled(): boolean {
    return this.auth.enabled;
  }

  /** runByKey returns the run, after checking that the caller's project owns it (PERMISSION_DENIED otherwise). */
  private async runByKey(runKey: string, principal: Principal | null): Promise<RunRecord> {
    let run = this.runs.get(runKey);
    if (!run) {
      run = await findRunByKey(this.opts.db, runKey);
      this.runs.set(runKey, run);
    }
    this.auth.authorizeRun(principal, run);
    return run;
  }

  /** existingRun is the stored run of runKey, or null. */
  private async existingRun(runKey: string): Promise<RunRecord | null> {
    const hit = this.runs.get(runKey);
    if (hit) return hit;
    try {
      return await findRunByKey(this.opts.db, runKey);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  private handlers(): TelemetryHandlers {
    return {
      RegisterRun: (call, callback) => {
        void (async () => {
          try {
            const principal = await this.auth.authenticate(call.metadata, call.getPeer());
            const info = runInfoFromWire(call.request);
            // Ownership first: another project's run is refused before its layout is compared.
            const before = principal ? await this.existingRun(info.runKey) : null;
            if (before) this.auth.authorizeRun(principal, before);
            if (principal && !before) this.checkRunRate(principal);
            const registered = await registerRun(this.opts.db, info, principal?.projectId ?? null);
            const created = registered.created;
            if (principal && created) this.runRate.count(principal.projectId);
            let run = registered.run;
            if (principal && !created) {
              // A run registered while authentication was off is claimed by the first project that registers it.
              run = await claimRun(this.opts.db, run, principal.projectId);
              this.auth.authorizeRun(principal, run);
            }
            this.runs.set(run.runKey, run);
            if (created) this.log.info({ runKey: run.runKey, runId: run.id, simulated: run.simulated }, "run registered");
            callback(null, { run_id: run.id, created, moe_layers: run.moeLayers });
          } catch (err) {
            callback(overloadStatus(err) ?? toServiceError(err, this.log));
          }
        })();
      },

      Stream: (call) => this.handleStream(call),

      Write: (call, callback) => {
        void (async () => {
          // Admission first and cheapest: an overloaded collector refuses before any database work.
          let ticket: Ticket | null = null;
          try {
            ticket = this.admission.admit(estimateBatchBytes(call.request.batch));
            const principal = await this.auth.authenticate(call.metadata, call.getPeer());
            const { run, rank, pp, instance } = await this.hello(call.request.hello, "hello", principal);
            const batch = call.request.batch;
            if (!batch) throw new InvalidInput("batch is missing", "batch");
            const { pending, rejected } = this.prepare(run, rank, pp, instance, batch);
            await this.buffer.enqueue(pending);
            // Records refused at storage (conflicting rewrites) are rejections like the others, found later.
            rejected.push(...(pending.conflicts ?? []));
            this.stats.rejected += pending.conflicts?.length ?? 0;
            const accepted = pending.layers.length + pending.steps.length + (pending.scalars?.length ?? 0) - (pending.conflicts?.length ?? 0);
            if (rejected.length > 0) {
              const trailer = new grpc.Metadata();
              trailer.set("moe-accepted-records", String(accepted));
              callback({
                code: grpc.status.INVALID_ARGUMENT,
                details: `${rejected.length} record(s) rejected, ${accepted} stored: ${describe(rejected)}`,
                metadata: trailer,
              });
              return;
            }
            callback(null, { durable_seq: pending.seq, accepted });
          } catch (err) {
            callback(overloadStatus(err) ?? toServiceError(err, this.log));
          } finally {
            ticket?.release();
          }
        })();
      },

      ReportOom: (call, callback) => {
        void (async () => {
          try {
            const principal = await this.auth.authenticate(call.metadata, call.getPeer());
            const run = await this.runByKey(call.request.run_key, principal);
            const oom = oomFromWire(call.request);
            const id = await recordOom(this.opts.db, run, oom);
            void this.opts.alerts?.observeOom(run, oom);
            this.log.warn({ runKey: run.runKey, rank: oom.rank, step: oom.step, layer: oom.layer }, "OOM reported");
            callback(null, { event_id: id });
          } catch (err) {
            callback(toServiceError(err, this.log));
          }
        })();
      },

      ReportEvent: (call, callback) => {
        void (async () => {
          try {
            const principal = await this.auth.authenticate(call.metadata, call.getPeer());
            const run = await this.runByKey(call.request.run_key, principal);
            const kind = call.request.kind === "CRASH" ? "crash" : call.request.kind === "FINISHED" ? "finished" : null;
            if (!kind) throw new InvalidInput(`event kind ${call.request.kind} is not one of CRASH, FINISHED`, "kind");
            const id = await recordRunEvent(this.opts.db, run, {
              rank: call.request.rank,
              kind,
              step: call.request.step,
              message: call.request.message,
              ...(call.request.wall_time_ms === undefined ? {} : { wallTimeMs: call.request.wall_time_ms }),
            });
            void this.opts.alerts?.runEnded(run, kind === "crash" ? "crashed" : "finished");
            callback(null, { event_id: id });
          } catch (err) {
            callback(toServiceError(err, this.log));
          }
        })();
      },
    };
  }

  private async hello(
    h: RankHello__Output | null,
    field: string,
    principal: Principal | null,
  ): Promise<{ run: RunRecord; rank: number; pp: number; instance: string; durableSeq: number }> {
    if (!h) throw new InvalidInput(`${field} is missing: send RankHello first`, field);
    const run = await this.runByKey(h.run_key, principal);
    const info = rankInfoFromWire(h);
    validateRank(run, info);
    const instance = checkClientInstance(h.client_instance, `${field}.client_instance`);
    await upsertRank(this.opts.db, run.id, info, h.client);
    // Durable for *this* client process only: a restarted job (new instance) gets 0 and resends what it holds.
    const durableSeq = await instanceDurableSeq(this.opts.db, run.id, info.rank, instance);
    return { run, rank: info.rank, pp: info.coords.pp, instance, durableSeq };
  }

  private stageLayers(run: RunRecord, pp: number): Set<number> {
    const key = `${run.id}/${pp}`;
    let layers = this.stageLayerCache.get(key);
    if (!layers) {
      layers = stageLayersOf(run, pp);
      this.stageLayerCache.set(key, layers);
    }
    return layers;
  }

  private prepare(run: RunRecord, rank: number, pp: number, instance: string, batch: Batch__Output): { pending: PendingBatch; rejected: Rejection[] } {
    checkBatchHeader(batch.seq, batch.dropped_batches);
    const checked = validateBatch(
      batch.layers.map(layerReportFromWire),
      batch.steps.map(stepSampleFromWire),
      batchContextOf(run, pp, this.stageLayers(run, pp)),
      batch.scalars.map(scalarFromWire),
    );
    this.stats.batches++;
    this.stats.layerReports += checked.layers.length;
    this.stats.stepSamples += checked.steps.length + checked.scalars.length;
    this.stats.rejected += checked.rejected.length;
    return {
      pending: { run, rank, instance, seq: batch.seq, layers: checked.layers, steps: checked.steps, scalars: checked.scalars, droppedBatches: batch.dropped_batches },
      rejected: checked.rejected,
    };
  }

  /** checkRunRate refuses a new run (RESOURCE_EXHAUSTED, hint: when the next is allowed) past COLLECTOR_MAX_RUNS_PER_MINUTE. */
  private checkRunRate(principal: Principal): void {
    const wait = this.runRate.waitMs(principal.projectId);
    if (wait === 0) return;
    throw new Overloaded(
      `project ${principal.projectName} registered ${this.admission.settings.maxRunsPerMinute} new runs in the last minute, its limit (COLLECTOR_MAX_RUNS_PER_MINUTE); nothing was registered, retry after ${wait} ms`,
      wait,
    );
  }

  /**
   * claimStreamSlot counts an authenticated stream against its project's share of COLLECTOR_MAX_STREAMS and
   * returns the refusal when the project already holds its share (no project: ingest auth off, total only).
   */
  private claimStreamSlot(call: StreamCall, principal: Principal | null): Error | null {
    if (!principal || this.slots.claim(call, principal.projectId)) return null;
    const limits = this.admission.settings;
    return this.admission.refuse(
      `project ${principal.projectName} has ${this.slots.openOf(principal.projectId)} open streams, its share of the collector (COLLECTOR_MAX_STREAMS_PER_PROJECT ${limits.maxStreamsPerProject} of COLLECTOR_MAX_STREAMS ${limits.maxStreams})`,
    );
  }

  /** armHelloDeadline ends a stream that has not sent its RankHello within helloTimeoutMs: a slot is for a rank that says who it is. */
  private armHelloDeadline(call: StreamCall, fail: (err: unknown) => void): void {
    const ms = this.admission.settings.helloTimeoutMs;
    const timer = setTimeout(() => {
      this.helloTimers.delete(call);
      fail(new StreamIdle(`the stream sent no RankHello within ${ms} ms of opening (COLLECTOR_HELLO_TIMEOUT_MS) and was closed; send the hello first`));
    }, ms).unref();
    this.helloTimers.set(call, timer);
  }

  /** helloArrived stops the stream's hello deadline. */
  private helloArrived(call: StreamCall): void {
    const t = this.helloTimers.get(call);
    if (t) clearTimeout(t);
    this.helloTimers.delete(call);
  }

  /** releaseStream gives back a stream's slot, in the total and in its project's share (idempotent). */
  private releaseStream(call: StreamCall): void {
    this.helloArrived(call);
    this.streams.delete(call);
    this.slots.release(call);
  }

  private handleStream(call: StreamCall): void {
    const limits = this.admission.settings;
    if (this.streams.size >= limits.maxStreams) {
      call.emit("error", overloadStatus(this.admission.refuse(`the collector has ${this.streams.size} open streams, its limit (COLLECTOR_MAX_STREAMS)`)));
      return;
    }
    this.streams.add(call);
    this.armHelloDeadline(call, (err) => fail(err));
    // Flow control and liveness (collector/admission.ts): bytes this stream holds in the buffer, whether
    // reading is paused, and the timers that end a stalled or idle stream.
    let inflight = 0;
    let paused = false;
    let stallTimer: NodeJS.Timeout | null = null;
    let idleTimer: NodeJS.Timeout | null = null;
    const clearTimers = () => {
      if (stallTimer) clearTimeout(stallTimer);
      if (idleTimer) clearTimeout(idleTimer);
      stallTimer = idleTimer = null;
    };
    const overShare = () => inflight > this.admission.shareOf(this.streams.size);
    const mustWait = () =>
      this.buffer.isFull() || this.admission.over() || (overShare() && this.admission.pendingBytes > limits.maxPendingBytes / 2);
    const maybeResume = () => {
      if (!paused || failed) return;
      // Still full: look again after the next flush (every flush ends in a drain).
      if (mustWait()) return this.buffer.onDrain(maybeResume);
      paused = false;
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = null;
      call.resume();
    };
    const checkStall = () => {
      maybeResume();
      if (!paused || failed) return;
      if (overShare()) {
        fail(
          this.admission.refuse(
            `stream paused for ${limits.stallMs} ms holding ${Math.round(inflight / 1024)} KiB of unwritten batches, more than its share of the collector (COLLECTOR_STALL_MS)`,
          ),
        );
      } else stallTimer = setTimeout(checkStall, limits.stallMs).unref();
    };
    const maybePause = () => {
      if (paused || failed || !mustWait()) return;
      paused = true;
      call.pause();
      this.buffer.onDrain(maybeResume);
      this.admission.whenBelow(maybeResume);
      stallTimer = setTimeout(checkStall, limits.stallMs).unref();
    };
    const armIdle = () => {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        if (failed) return;
        // While paused the collector is the one holding the stream back, not the client.
        if (paused) return armIdle();
        fail(new StreamIdle(`the stream sent nothing for ${limits.streamIdleMs} ms (COLLECTOR_STREAM_IDLE_MS) and was closed; reconnect when there is data to send`));
      }, limits.streamIdleMs).unref();
    };
    // Replies wait in the send queue while the client does not read them: bounded, never unbounded.
    const send = (m: ServerMessage) => {
      if (failed) return;
      call.write(m);
      if (call.writableLength > limits.maxOutboundMessages) {
        call.pause();
        fail(this.admission.refuse(`the client does not read its stream: ${call.writableLength} replies are queued (COLLECTOR_MAX_OUTBOUND_MESSAGES ${limits.maxOutboundMessages})`));
      }
    };
    armIdle();
    let identity: { run: RunRecord; rank: number; pp: number; instance: string } | null = null;
    let acked = 0;
    let failed = false;
    // Messages are handled one after another; durability is awaited separately so batches pipeline.
    let chain: Promise<void> = Promise.resolve();
    // Only the batches still waiting for their flush: a settled promise is dropped at once. (Keeping the newest
    // 1,024 of every stream held ~70 bytes per batch for nothing: ~70 MB with 1,024 streams, issue 18.6.)
    const durable = new Set<Promise<void>>();

    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      this.releaseStream(call);
      clearTimers();
      const overload = overloadStatus(err);
      // Overload and idle endings are the collector's decision: say so in its log, with the peer.
      if (overload) this.log.warn({ peer: call.getPeer(), code: grpc.status[overload.code ?? 0], reason: overload.details }, "stream ended by the collector");
      call.emit("error", overload ?? toServiceError(err, this.log));
    };
    // The token is checked once per stream, from its metadata, before any message is handled.
    const principal = this.auth.authenticate(call.metadata, call.getPeer());
    principal.then((p) => {
      const refused = this.claimStreamSlot(call, p);
      if (refused) fail(refused);
    }, fail);

    /**
     * holdArrival counts a batch against the bound the moment it arrives, decoded, not once its turn comes:
     * messages waiting behind a slow hello or token check hold memory too, and the stream pauses on them.
     */
    const holdArrival = (msg: ClientMessage__Output): (() => void) => {
      // A hello's batch field is ignored (the hello branch returns), so it holds nothing.
      if (!msg.batch || msg.hello) return () => {};
      const ticket = this.admission.hold(estimateBatchBytes(msg.batch));
      inflight += ticket.bytes;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        ticket.release();
        inflight -= ticket.bytes;
        maybeResume();
      };
    };

    const onMessage = async (msg: ClientMessage__Output, release: () => void) => {
      if (failed) return release();
      const malformed = malformedReason(msg);
      if (malformed) throw new InvalidInput(malformed);
      if (msg.hello) {
        const h = await this.hello(msg.hello, "hello", await principal);
        identity = { run: h.run, rank: h.rank, pp: h.pp, instance: h.instance };
        acked = h.durableSeq;
        send({ welcome: { run_id: h.run.id, durable_seq: h.durableSeq, num_experts: h.run.numExperts, moe_layers: h.run.moeLayers } });
        return;
      }
      if (!msg.batch) return release();
      if (!identity) throw new InvalidInput("the stream's first message must be a RankHello", "hello");
      // Re-checked per batch (a cache hit, normally): a revoked token also ends the streams it opened.
      if (this.auth.enabled) await this.auth.authenticate(call.metadata, call.getPeer());
      const { pending, rejected } = this.prepare(identity.run, identity.rank, identity.pp, identity.instance, msg.batch);
      send({ result: { seq: pending.seq, accepted: pending.layers.length + pending.steps.length + (pending.scalars?.length ?? 0), rejected } });
      if (rejected.length > 0) {
        this.log.warn({ runKey: identity.run.runKey, rank: identity.rank, seq: pending.seq, rejected }, "records rejected");
      }
      const stored = this.buffer.enqueue(pending).finally(release);
      const who = identity;
      const done = stored.then(
        () => {
          if (pending.conflicts?.length) {
            send({ conflicts: { seq: pending.seq, accepted: 0, rejected: pending.conflicts } });
            this.stats.rejected += pending.conflicts.length;
            this.log.warn({ runKey: who.run.runKey, rank: who.rank, seq: pending.seq, rejected: pending.conflicts }, "conflicting rewrites refused");
          }
          if (!failed && pending.seq > acked) {
            acked = pending.seq;
            send({ ack: { durable_seq: acked } });
          }
        },
        (err: unknown) =>
          fail(
            new Unavailable(
              `could not store batch ${pending.seq} (error id ${internalErrorId(err, (f, m) => this.log.error(f, m), "flush failed")}); reconnect and resend`,
            ),
          ),
      );
      durable.add(done);
      void done.finally(() => durable.delete(done));
      maybePause();
    };

    call.on("data", (msg: ClientMessage__Output) => {
      armIdle();
      if (msg.hello) this.helloArrived(call);
      const release = holdArrival(msg);
      chain = chain.then(() => onMessage(msg, release)).catch((err: unknown) => {
        release();
        fail(err);
      });
      maybePause();
    });
    call.on("end", () => {
      chain = chain
        .then(() => Promise.all([...durable]))
        .then(() => {
          this.releaseStream(call);
          clearTimers();
          if (!failed) call.end();
        })
        .catch(fail);
    });
    call.on("error", () => {
      clearTimers();
      this.releaseStream(call);
    });
    call.on("cancelled", () => {
      clearTimers();
      this.releaseStream(call);
    });
  }
}

/** alertInputOf keeps what AlertEngine.afterFlush reads of flushed batches (run, rank, step samples), without the layer reports. */
function alertInputOf(batches: PendingBatch[]): PendingBatch[] {
  return batches.filter((b) => b.steps.length > 0).map((b) => ({ ...b, layers: [], scalars: [] }));
}

function describe(rejected: Rejection[]): string {
  const shown = rejected.slice(0, 5).map((r) => `${r.field}: ${r.reason}`).join("; ");
  return rejected.length > 5 ? `${shown}; and ${rejected.length - 5} more` : shown;
}
