/**
 * TypeScript client of the collector, for tools, tests and the simulator. Speaks the same wire
 * contract as the Python client: RegisterRun, one Stream per rank with sequence numbers and durable
 * acks, resend of unacked batches after a reconnect, and the unary OOM last gasp.
 */
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { loadTelemetryProto } from "../wire/loadTelemetryProto";
import { checkKeyPair, readPem } from "../wire/pem";
import { layerReportToWire, memoryToWire, runConfigToWire, scalarToWire, stepSampleToWire } from "../wire/protoMapping";
import type { LayerReport, OomEvent, RankInfo, RunInfo, ScalarPoint, StepSample } from "../analysis/types";
import type { TelemetryClient as GrpcTelemetryClient } from "../../generated/proto/moe/telemetry/v1/Telemetry";
import type { ClientMessage } from "../../generated/proto/moe/telemetry/v1/ClientMessage";
import type { ServerMessage__Output } from "../../generated/proto/moe/telemetry/v1/ServerMessage";
import type { Rejection__Output } from "../../generated/proto/moe/telemetry/v1/Rejection";
import type { RankHello } from "../../generated/proto/moe/telemetry/v1/RankHello";
import type { RegisterRunResponse__Output } from "../../generated/proto/moe/telemetry/v1/RegisterRunResponse";
import type { WriteResponse__Output } from "../../generated/proto/moe/telemetry/v1/WriteResponse";
import type { EventAck__Output } from "../../generated/proto/moe/telemetry/v1/EventAck";
import { limit } from "../wire/limits";
import { backoffDelayMs } from "../runtime/backoff";

/** ClientOptions: deadlines and reconnect policy. */
export interface ClientOptions {
  /** Deadline of unary calls, ms. */
  deadlineMs?: number;
  /** Deadline of the OOM last gasp, ms (short: the process is about to die). */
  oomDeadlineMs?: number;
  /** First and largest reconnect delay, ms. */
  backoffMs?: [number, number];
  /** How often a unary call refused with RESOURCE_EXHAUSTED (collector overloaded) is retried after the hinted delay. */
  overloadRetries?: number;
  /** Called for every record the collector rejected. */
  onRejected?: (rank: number, seq: number, r: Rejection__Output) => void;
  /** Called when a stream breaks and will be retried. */
  onReconnect?: (rank: number, err: Error) => void;
  /**
   * Streams opened on one HTTP/2 connection before another connection to the same collector is opened
   * (default 100). The collector allows 256 per connection (COLLECTOR_MAX_STREAMS_PER_CONNECTION) and a
   * stream past that limit would wait for a free slot forever, so one process can run thousands of ranks.
   */
  streamsPerConnection?: number;
  /**
   * A stream that gets no Welcome this long after it was opened is abandoned and opened again; after
   * WELCOME_ATTEMPTS such attempts in a row it fails for good (error, rejected acked()). Default 30 s.
   */
  welcomeTimeoutMs?: number;
  clientName?: string;
  /** Ingest token sent with every call (metadata `authorization: Bearer ...`). Default: env MOE_TELEMETRY_TOKEN. */
  token?: string;
  /**
   * TLS to the collector; each value is PEM text or a file path. `ca` verifies the collector's certificate
   * (the system roots without it); `cert` + `key` are the client certificate for collectors that require one.
   * Default: env MOE_TELEMETRY_TLS_CA / _CERT / _KEY; plaintext when none is set.
   */
  tls?: ClientTls;
}

/** ClientTls: TLS settings of a client. */
export interface ClientTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Name expected in the collector's certificate when it differs from the address's host. */
  serverNameOverride?: string;
}

/** tlsFromEnv reads MOE_TELEMETRY_TLS_CA / _CERT / _KEY; undefined when none is set. */
export function tlsFromEnv(env: Record<string, string | undefined> = process.env): ClientTls | undefined {
  const ca = env.MOE_TELEMETRY_TLS_CA || undefined;
  const cert = env.MOE_TELEMETRY_TLS_CERT || undefined;
  const key = env.MOE_TELEMETRY_TLS_KEY || undefined;
  return ca || cert || key ? { ca, cert, key } : undefined;
}

/** channelCredentials builds the channel's credentials: TLS when configured, plaintext otherwise. */
function channelCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (Boolean(tls.cert) !== Boolean(tls.key)) throw new Error("TLS client certificate: give both cert and key (MOE_TELEMETRY_TLS_CERT and MOE_TELEMETRY_TLS_KEY), or neither");
  const ca = tls.ca ? readPem(tls.ca, "TLS ca (MOE_TELEMETRY_TLS_CA)") : null;
  const cert = tls.cert ? readPem(tls.cert, "TLS cert (MOE_TELEMETRY_TLS_CERT)") : null;
  const key = tls.key ? readPem(tls.key, "TLS key (MOE_TELEMETRY_TLS_KEY)") : null;
  if (cert && key) checkKeyPair(cert, key, "TLS cert (MOE_TELEMETRY_TLS_CERT)", "TLS key (MOE_TELEMETRY_TLS_KEY)");
  return grpc.credentials.createSsl(ca, key, cert);
}

/** tokenInterceptor adds the ingest token to the metadata of every call, unary and streaming alike. */
function tokenInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

/** WELCOME_ATTEMPTS: stream openings in a row without a Welcome before a RankStream gives up loudly. */
export const WELCOME_ATTEMPTS = 3;

/** StreamLease: a channel with a stream slot held for one stream; release it when the stream ends. */
export interface StreamLease {
  stub: GrpcTelemetryClient;
  release(): void;
}

/** TelemetryClient connects to one collector, or to the next of several addresses on failure. */
export class TelemetryClient {
  private readonly clients: GrpcTelemetryClient[] = [];
  /** Per address: the channels streams run on (the first is the unary channel), each its own HTTP/2 connection. */
  private readonly streamPools: Array<Array<{ stub: GrpcTelemetryClient; open: number }>> = [];
  private readonly openChannel: (index: number, ownConnection: boolean) => GrpcTelemetryClient;
  private current = 0;
  /**
   * This client's instance id (RankHello.client_instance): its sequence numbers are its own, so the
   * collector never counts another process's batches (an earlier run of the same job) as durable for it.
   */
  readonly instance = randomUUID();
  readonly opts: Required<Omit<ClientOptions, "onRejected" | "onReconnect" | "token" | "tls">> & Pick<ClientOptions, "onRejected" | "onReconnect">;

  constructor(addresses: string | string[], opts: ClientOptions = {}) {
    const list = (Array.isArray(addresses) ? addresses : addresses.split(",")).map((a) => a.trim()).filter(Boolean);
    if (list.length === 0) throw new Error("no collector address given");
    const proto = loadTelemetryProto();
    const tls = opts.tls ?? tlsFromEnv();
    const credentials = channelCredentials(tls);
    const token = (opts.token ?? process.env.MOE_TELEMETRY_TOKEN ?? "").trim();
    this.openChannel = (index, ownConnection) =>
      new proto.Telemetry(list[index], credentials, {
        // grpc-js shares one connection among channels with equal options; a stream channel needs its own.
        ...(ownConnection ? { "grpc.use_local_subchannel_pool": 1 } : {}),
        ...(token ? { interceptors: [tokenInterceptor(token)] } : {}),
        ...(tls?.serverNameOverride ? { "grpc.ssl_target_name_override": tls.serverNameOverride, "grpc.default_authority": tls.serverNameOverride } : {}),
        // Keepalive pings every 30 s (10 s to answer) notice a collector that vanished without closing TCP.
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 10_000,
        "grpc.max_send_message_length": limit("maxMessageBytes"),
        // Reconnect quickly after a collector restart instead of grpc's default 1 s..120 s backoff.
        "grpc.initial_reconnect_backoff_ms": 100,
        "grpc.max_reconnect_backoff_ms": 2_000,
      }) as unknown as GrpcTelemetryClient;
    this.clients.push(...list.map((_, i) => this.openChannel(i, false)));
    for (const c of this.clients) this.streamPools.push([{ stub: c, open: 0 }]);
    this.opts = {
      deadlineMs: opts.deadlineMs ?? 10_000,
      oomDeadlineMs: opts.oomDeadlineMs ?? 2_000,
      backoffMs: opts.backoffMs ?? [100, 2_000],
      overloadRetries: opts.overloadRetries ?? 20,
      clientName: opts.clientName ?? "moe-telemetry-ts/0.1",
      streamsPerConnection: opts.streamsPerConnection ?? 100,
      welcomeTimeoutMs: opts.welcomeTimeoutMs ?? 30_000,
      onRejected: opts.onRejected,
      onReconnect: opts.onReconnect,
    };
  }

  /** stub returns the stub of address `index` (modulo the number of addresses), or the current one. */
  stub(index: number = this.current): GrpcTelemetryClient {
    return this.clients[((index % this.clients.length) + this.clients.length) % this.clients.length];
  }

  /**
   * leaseStreamChannel returns a channel to address `index` with a free stream slot, opening another
   * connection when every one holds streamsPerConnection streams; release the lease when the stream ends.
   */
  leaseStreamChannel(index: number): StreamLease {
    const i = ((index % this.clients.length) + this.clients.length) % this.clients.length;
    const pool = this.streamPools[i];
    let channel = pool.find((c) => c.open < this.opts.streamsPerConnection);
    if (!channel) {
      channel = { stub: this.openChannel(i, true), open: 0 };
      pool.push(channel);
    }
    const held = channel;
    held.open++;
    let released = false;
    return {
      stub: held.stub,
      release: () => {
        if (released) return;
        released = true;
        held.open--;
      },
    };
  }

  /** connections is the number of HTTP/2 channels this client has open for streams, per address. */
  get connections(): number[] {
    return this.streamPools.map((p) => p.length);
  }

  /** addresses is the number of collector addresses this client knows. */
  get addresses(): number {
    return this.clients.length;
  }

  /**
   * unary runs a unary call against the current collector and, when it is unreachable, against each
   * other address once before giving up; the address that answered becomes the current one.
   */
  private async unary<T>(call: (stub: GrpcTelemetryClient, done: (err: grpc.ServiceError | null, res?: T) => void) => void): Promise<T> {
    let last: unknown;
    let overloaded = 0;
    for (let attempt = 0; attempt < this.clients.length; attempt++) {
      const index = this.current + attempt;
      try {
        const res = await new Promise<T>((resolve, reject) =>
          call(this.stub(index), (err, r) => (err || r === undefined ? reject(err ?? new Error("empty response")) : resolve(r))),
        );
        this.current = index % this.clients.length;
        return res;
      } catch (err) {
        last = err;
        const code = (err as grpc.ServiceError).code;
        if (code === grpc.status.RESOURCE_EXHAUSTED && isOverloadHint(err) && overloaded < this.opts.overloadRetries) {
          // The collector is full and stored nothing of this call: wait as hinted, then the same address again.
          await new Promise((r) => setTimeout(r, retryDelayMs(err, overloaded++, this.opts.backoffMs)));
          attempt--;
          continue;
        }
        if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED) throw err;
      }
    }
    throw last;
  }

  private deadline(ms = this.opts.deadlineMs): grpc.CallOptions {
    return { deadline: Date.now() + ms };
  }

  /** registerRun registers (or finds) the run; idempotent on runKey. */
  async registerRun(info: RunInfo): Promise<{ runId: string; created: boolean; moeLayers: number[] }> {
    const res = await this.unary<RegisterRunResponse__Output>((stub, done) =>
      stub.RegisterRun(
        {
          run_key: info.runKey,
          name: info.name,
          config: runConfigToWire(info.config),
          world_size: info.worldSize,
          gpus_per_node: info.gpusPerNode,
          gpu_memory_bytes: info.gpuMemoryBytes,
          framework: info.framework,
          framework_version: info.frameworkVersion,
          simulated: info.simulated,
          command_line: info.commandLine,
        },
        this.deadline(),
        done,
      ),
    );
    return { runId: res.run_id, created: res.created, moeLayers: res.moe_layers };
  }

  /** write sends one batch without a stream and resolves once it is durable. */
  async write(runKey: string, rank: RankInfo, seq: number, layers: LayerReport[], steps: StepSample[]): Promise<{ durableSeq: number; accepted: number }> {
    const res = await this.unary<WriteResponse__Output>((stub, done) =>
      stub.Write(
        {
          hello: helloOf(runKey, rank, this.opts.clientName, this.instance),
          batch: { seq, layers: layers.map(layerReportToWire), steps: steps.map(stepSampleToWire), dropped_batches: 0 },
        },
        this.deadline(),
        done,
      ),
    );
    return { durableSeq: res.durable_seq, accepted: res.accepted };
  }

  /** reportOom sends the last gasp of a rank that ran out of memory. */
  async reportOom(runKey: string, oom: OomEvent): Promise<string> {
    const res = await this.unary<EventAck__Output>((stub, done) =>
      stub.ReportOom(
        {
          run_key: runKey,
          rank: oom.rank,
          step: oom.step,
          phase: oom.phase,
          ...(oom.layer === undefined ? {} : { layer: oom.layer }),
          message: oom.message,
          ...(oom.memory ? { memory: memoryToWire(oom.memory) } : {}),
          ...(oom.wallTimeMs === undefined ? {} : { wall_time_ms: oom.wallTimeMs }),
          ...(oom.requestedBytes === undefined ? {} : { requested_bytes: oom.requestedBytes }),
        },
        this.deadline(this.opts.oomDeadlineMs),
        done,
      ),
    );
    return res.event_id;
  }

  /** reportEvent reports a crash or the end of a run. */
  async reportEvent(runKey: string, rank: number, kind: "CRASH" | "FINISHED", step: number, message = ""): Promise<string> {
    const res = await this.unary<EventAck__Output>((stub, done) =>
      stub.ReportEvent({ run_key: runKey, rank, kind, step, message, wall_time_ms: Date.now() }, this.deadline(), done),
    );
    return res.event_id;
  }

  /**
   * openStream starts a rank's long-lived stream on address `startAt` (default: the current one); on
   * failure the stream moves on to the next address by itself. Spreading ranks (startAt = rank) spreads
   * them over several collectors without a load balancer.
   */
  openStream(runKey: string, rank: RankInfo, opts: { startAt?: number } = {}): RankStream {
    return new RankStream(this, runKey, rank, opts.startAt ?? this.current);
  }

  /** closed is true once close() was called; streams stop reconnecting then. */
  closed = false;

  /** close closes every channel. */
  close(): void {
    this.closed = true;
    for (const c of this.clients) c.close();
    for (const pool of this.streamPools) for (const c of pool.slice(1)) c.stub.close();
  }
}

/**
 * retryDelayMs is how long to wait before retrying after `err`: jittered exponential back-off from
 * `backoffMs`, never shorter than the collector's `retry-after-ms` (or `grpc-retry-pushback-ms`) hint, so
 * thousands of refused ranks do not come back in the same instant.
 */
export function retryDelayMs(err: unknown, attempt: number, backoff: [number, number]): number {
  const md = (err as Partial<grpc.ServiceError> | null)?.metadata;
  return backoffDelayMs(attempt, backoff, Number(md?.get("retry-after-ms")[0] ?? md?.get("grpc-retry-pushback-ms")[0] ?? 0));
}

/** isOverloadHint tells a collector's "come back later" (it carries `retry-after-ms`) from a message refused for its size. */
export function isOverloadHint(err: unknown): boolean {
  const md = (err as Partial<grpc.ServiceError> | null)?.metadata;
  return (md?.get("retry-after-ms").length ?? 0) > 0 || (md?.get("grpc-retry-pushback-ms").length ?? 0) > 0;
}

/** helloOf builds a rank's hello message; `instance` is the sending client process (RankHello.client_instance). */
export function helloOf(runKey: string, rank: RankInfo, client: string, instance = ""): RankHello {
  return { run_key: runKey, rank: rank.rank, host: rank.host, device: rank.device, coords: rank.coords, client, client_instance: instance };
}

interface Unacked {
  seq: number;
  message: ClientMessage;
}

/**
 * RankStream: one rank's stream. `send` never blocks: batches wait in memory until the collector
 * acks them as durable, and are resent after a reconnect.
 */
export class RankStream {
  private call: grpc.ClientDuplexStream<ClientMessage, ServerMessage__Output> | null = null;
  // Batches go out only after the collector's Welcome: it tells which are already durable, and
  // everything unacked is (re)sent then, once.
  private ready = false;
  private unacked: Unacked[] = [];
  private nextSeq = 1;
  private durableSeq = 0;
  private closing = false;
  private attempt = 0;
  private waiters: Array<{ seq: number; resolve: () => void; reject: (err: Error) => void }> = [];
  private fatal: Error | null = null;
  /** Records rejected by the collector since the stream opened. */
  rejected = 0;
  /** Reconnects since the stream opened. */
  reconnects = 0;

  constructor(
    private readonly client: TelemetryClient,
    private readonly runKey: string,
    private readonly rank: RankInfo,
    private address: number,
  ) {
    this.connect();
  }

  /** send queues one batch and returns its sequence number. */
  send(layers: LayerReport[], steps: StepSample[], droppedBatches = 0, scalars: ScalarPoint[] = []): number {
    if (this.fatal) throw this.fatal;
    const seq = this.nextSeq++;
    const message: ClientMessage = {
      batch: {
        seq,
        layers: layers.map(layerReportToWire),
        steps: steps.map(stepSampleToWire),
        dropped_batches: droppedBatches,
        scalars: scalars.map(scalarToWire),
      },
    };
    this.unacked.push({ seq, message });
    if (this.ready) this.call?.write(message);
    return seq;
  }

  /** acked resolves when every batch sent so far is durable. */
  acked(): Promise<void> {
    const seq = this.nextSeq - 1;
    if (this.fatal) return Promise.reject(this.fatal);
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** pending is the number of batches not yet acked. */
  pending(): number {
    return this.unacked.length;
  }

  /** close waits for every batch to be acked (up to timeoutMs), then ends the stream. */
  async close(timeoutMs = 30_000): Promise<void> {
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs).unref());
    const result = await Promise.race([this.acked().then(() => "ok" as const), timer]);
    this.closing = true;
    this.call?.end();
    this.call = null;
    if (result === "timeout") throw new Error(`rank ${this.rank.rank}: ${this.unacked.length} batch(es) not acked after ${timeoutMs} ms`);
  }

  /** failForGood ends the stream's retries: `acked()` and `send()` report `err` from now on. */
  private failForGood(err: Error): void {
    this.fatal = err;
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.client.opts.onReconnect?.(this.rank.rank, err);
  }

  /** Stream openings in a row that got no Welcome (WELCOME_ATTEMPTS). */
  private withoutWelcome = 0;

  /**
   * watchWelcome abandons a stream that gets no Welcome within welcomeTimeoutMs (a connection without a free
   * stream slot queues it silently), and fails the RankStream for good after WELCOME_ATTEMPTS in a row, so a
   * client that cannot open its stream says so instead of waiting forever.
   */
  private watchWelcome(call: grpc.ClientDuplexStream<ClientMessage, ServerMessage__Output>): void {
    const ms = this.client.opts.welcomeTimeoutMs;
    const timer = setTimeout(() => {
      if (this.call !== call || this.ready) return;
      const err = new Error(
        `rank ${this.rank.rank}: no Welcome from the collector within ${ms} ms of opening the stream (attempt ${++this.withoutWelcome} of ${WELCOME_ATTEMPTS}); the connection may have no free stream slot (COLLECTOR_MAX_STREAMS_PER_CONNECTION) or the collector is not answering`,
      );
      // Reported (and this.call let go) before cancelling, so the cancellation's own error is a late event.
      if (this.withoutWelcome < WELCOME_ATTEMPTS) this.onBroken(call, err);
      else {
        this.call = null;
        this.failForGood(err);
      }
      call.cancel();
    }, ms);
    timer.unref();
    call.on("data", (msg: ServerMessage__Output) => {
      if (!msg.welcome) return;
      this.withoutWelcome = 0;
      clearTimeout(timer);
    });
    call.on("status", () => clearTimeout(timer));
  }

  private connect(): void {
    if (this.closing || this.client.closed) return;
    // A channel with a free stream slot: the client spreads its streams over enough connections.
    const lease = this.client.leaseStreamChannel(this.address);
    const call = lease.stub.Stream();
    call.on("status", () => lease.release());
    this.call = call;
    this.watchWelcome(call);
    this.ready = false;
    call.write({ hello: helloOf(this.runKey, this.rank, this.client.opts.clientName, this.client.instance) });
    call.on("data", (msg: ServerMessage__Output) => this.onMessage(msg));
    call.on("error", (err: grpc.ServiceError) => this.onBroken(call, err));
    call.on("end", () => this.onBroken(call, new Error("stream ended by the collector")));
  }

  private onMessage(msg: ServerMessage__Output): void {
    if (msg.welcome) {
      this.attempt = 0;
      this.ready = true;
      this.markDurable(msg.welcome.durable_seq);
      // Resend whatever is still unacked, in order, on this new stream.
      for (const u of this.unacked) this.call?.write(u.message);
    } else if (msg.ack) {
      this.markDurable(msg.ack.durable_seq);
    } else if (msg.result || msg.conflicts) {
      const result = (msg.result ?? msg.conflicts)!;
      for (const r of result.rejected) {
        this.rejected++;
        this.client.opts.onRejected?.(this.rank.rank, result.seq, r);
      }
    }
  }

  private markDurable(durable: number): void {
    // Only batches this stream has sent can be durable: a larger number (a collector bug, or a sequence number
    // forged by someone else) must not make batches not yet sent count as stored.
    const seq = Math.min(durable, this.nextSeq - 1);
    if (seq <= this.durableSeq) return;
    this.durableSeq = seq;
    while (this.unacked.length > 0 && this.unacked[0].seq <= seq) this.unacked.shift();
    this.waiters = this.waiters.filter((w) => {
      if (w.seq <= seq) w.resolve();
      return w.seq > seq;
    });
  }

  private onBroken(call: grpc.ClientDuplexStream<ClientMessage, ServerMessage__Output>, err: Error): void {
    if (this.call !== call) return; // an old stream's late event
    this.call = null;
    this.ready = false;
    if (this.closing) return;
    const code = (err as grpc.ServiceError).code;
    // The collector said the request itself is wrong: retrying cannot help.
    if (
      code === grpc.status.NOT_FOUND ||
      code === grpc.status.INVALID_ARGUMENT ||
      code === grpc.status.FAILED_PRECONDITION ||
      code === grpc.status.UNAUTHENTICATED ||
      code === grpc.status.PERMISSION_DENIED ||
      // RESOURCE_EXHAUSTED without a retry hint is a message over the size limit: resending it cannot succeed.
      (code === grpc.status.RESOURCE_EXHAUSTED && !isOverloadHint(err))
    ) {
      this.failForGood(new Error(`rank ${this.rank.rank}: ${err.message}`));
      return;
    }
    this.reconnects++;
    this.client.opts.onReconnect?.(this.rank.rank, err);
    // The next collector address (or the same one again when there is only one).
    this.address = (this.address + 1) % this.client.addresses;
    // Jittered exponential back-off, and at least the collector's hint when it refused for overload.
    const delay = retryDelayMs(err, this.attempt++, this.client.opts.backoffMs);
    // Not unref'd: a caller awaiting acked() must keep the process alive until the stream is back.
    setTimeout(() => this.connect(), delay);
  }

  /** error is set when the collector refused the stream for good (unknown run, bad hello). */
  get error(): Error | null {
    return this.fatal;
  }
}
