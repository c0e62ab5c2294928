/**
 * Fuzz test of the live collector (issue 10 part 4): at least FUZZ_MESSAGES (default 100,000) mutated,
 * random and hostile-but-decodable protobuf messages, sent as unary calls and as stream frames through a
 * raw client that sends bytes as they are, with valid records interleaved. The collector must stay up
 * (health SERVING at the end), answer every call with a proper status (never UNKNOWN or INTERNAL; vitest
 * fails the file on any unhandled exception), and store every valid interleaved record exactly.
 *
 * Reproduce a failure with FUZZ_SEED=<the printed seed>. Hostile messages target their own run, so no
 * mutation can overwrite a valid record: the valid records live in a run whose key no mutation produces.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTelemetryProto } from "../../lib/wire/loadTelemetryProto";
import { layerReportToWire, stepSampleToWire, runConfigToWire } from "../../lib/wire/protoMapping";
import { unpackCounts } from "../../lib/store/packCounts";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import type { RankInfo } from "../../lib/analysis/types";
import { layersOfStage, report, smallRanks, smallRun, startCollector, tempDatabaseUrl } from "./harness";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = Number(process.env.FUZZ_MESSAGES ?? 100_000);
const WORKERS = 48;
const HOSTILE_RUN = "fuzz-hostile-run";
const VALID_RUN = "fuzz-valid";
// Statuses that are proper answers to bad input. UNKNOWN and INTERNAL mean the collector failed.
const PROPER = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.OUT_OF_RANGE,
]);

/** mulberry32: a small seeded PRNG so every message of a run can be reproduced from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];
const bytes = (r: Rand, n: number) => Buffer.from(Array.from({ length: n }, () => int(r, 256)));

const svc = loadTelemetryProto().Telemetry.service;
const identity = (b: Buffer) => b;
const rawMethod = (m: object) => ({ ...(m as grpc.MethodDefinition<unknown, unknown>), requestSerialize: identity, responseDeserialize: identity });
const RawClient = grpc.makeGenericClientConstructor(
  {
    RegisterRun: rawMethod(svc.RegisterRun),
    Write: rawMethod(svc.Write),
    Stream: rawMethod(svc.Stream),
    ReportOom: rawMethod(svc.ReportOom),
    ReportEvent: rawMethod(svc.ReportEvent),
    Check: { path: "/grpc.health.v1.Health/Check", requestStream: false, responseStream: false, requestSerialize: identity, responseDeserialize: identity },
  } as unknown as grpc.ServiceDefinition,
  "RawTelemetry",
);
type Raw = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

const enc = {
  write: (o: unknown) => svc.Write.requestSerialize(o as never),
  client: (o: unknown) => svc.Stream.requestSerialize(o as never),
  register: (o: unknown) => svc.RegisterRun.requestSerialize(o as never),
  oom: (o: unknown) => svc.ReportOom.requestSerialize(o as never),
  event: (o: unknown) => svc.ReportEvent.requestSerialize(o as never),
};

const RANKS = smallRanks();
const hello = (runKey: string, r: RankInfo) => ({ run_key: runKey, rank: r.rank, host: r.host, device: r.device, coords: r.coords, client: "fuzz" });

/** validBatch: a well-formed batch of the small layout for one rank and step. */
function validBatch(r: RankInfo, step: number, seq: number) {
  return {
    seq,
    layers: layersOfStage(r.coords.pp).map((l) => layerReportToWire(report(r.rank, step, l))),
    steps: [stepSampleToWire({ step, iterationTimeMs: 100 + step, lmLoss: 2.5 })],
    dropped_batches: 0,
    scalars: [],
  };
}

const HUGE = [2 ** 32 - 1, 2 ** 31, 2 ** 53 + 2, 2 ** 60, -1, -(2 ** 40), 0];
const BAD_DOUBLES = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, -1e308, 1e308];

/** hostileBatch: decodable but wrong in one or more ways (lengths, ranges, NaN, negatives, sizes). */
function hostileBatch(r: Rand, seq: number) {
  const nLayers = int(r, 4);
  const layers = Array.from({ length: nLayers }, () => {
    // Mostly small (decoding costs the test's time budget); now and then above LIMITS.maxExperts.
    const experts = r() < 0.01 ? 4_097 + int(r, 1_000) : pick(r, [0, 3, 4, 5, 64, int(r, 300)]);
    return {
      step: pick(r, [int(r, 100), ...HUGE]),
      layer: pick(r, [0, 1, 2, 3, 4, 5, 2 ** 32 - 1]),
      micro_batches: pick(r, [0, 1, 2, 2 ** 32 - 1]),
      tokens: pick(r, [16, 0, -5, 2 ** 53 + 2, 2 ** 62]),
      tokens_per_expert: Array.from({ length: experts }, () => pick(r, [0, 1, 8, -1, 2 ** 40, 2 ** 62])),
      tokens_per_expert_before_drop: r() < 0.3 ? Array.from({ length: int(r, 8) }, () => int(r, 20) - 5) : [],
      received_per_local_expert: r() < 0.3 ? Array.from({ length: int(r, 8) }, () => int(r, 20) - 5) : [],
      ...(r() < 0.5 ? { dropped: pick(r, [0, -3, 2 ** 62]) } : {}),
      ...(r() < 0.5 ? { load_balancing_loss: pick(r, [1.01, ...BAD_DOUBLES]) } : {}),
      ...(r() < 0.5 ? { z_loss: pick(r, [3, ...BAD_DOUBLES]) } : {}),
    };
  });
  const steps = Array.from({ length: int(r, 3) }, () => ({
    step: pick(r, [int(r, 100), ...HUGE]),
    ...(r() < 0.7 ? { iteration_time_ms: pick(r, [100, ...BAD_DOUBLES]) } : {}),
    ...(r() < 0.5 ? { lm_loss: pick(r, [2.5, ...BAD_DOUBLES]) } : {}),
    ...(r() < 0.5 ? { wall_time_ms: pick(r, [1e12, ...BAD_DOUBLES]) } : {}),
    ...(r() < 0.5
      ? { memory: { allocated_bytes: pick(r, [1, ...HUGE]), reserved_bytes: 2, peak_allocated_bytes: pick(r, [3, 2 ** 64 - 1]), num_ooms: 0, num_alloc_retries: pick(r, [0, -1]) } }
      : {}),
  }));
  const scalars = Array.from({ length: int(r, 3) }, () => ({
    step: pick(r, [1, ...HUGE]),
    name: pick(r, ["grad-norm", "", "x".repeat(300), "nul\u0000name", "<script>alert(1)</script>"]),
    layer: pick(r, [0, 3, 99, 2 ** 32 - 1]),
    value: pick(r, [1.5, ...BAD_DOUBLES]),
  }));
  // Now and then a batch far above maxRecordsPerBatch (refused whole).
  if (r() < 0.002) steps.push(...Array.from({ length: 20_001 }, (_, i) => ({ step: i })));
  return { seq: pick(r, [seq, 0, 2 ** 53 + 2, 2 ** 64 - 1]), layers, steps, dropped_batches: pick(r, [0, 2 ** 64 - 1]), scalars };
}

function hostileHello(r: Rand) {
  const base = hello(HOSTILE_RUN, pick(r, RANKS));
  switch (int(r, 8)) {
    case 0:
      return { ...base, rank: pick(r, [8, 2 ** 32 - 1]) };
    case 1:
      return { ...base, host: "h".repeat(pick(r, [256, 10_000])) };
    case 2:
      return { ...base, coords: { ...base.coords, dp: 2 ** 32 - 1, pp: pick(r, [0, 7]) } };
    case 3:
      return { ...base, run_key: pick(r, ["", "no-such-run", "k".repeat(5_000), "nul\u0000"]) };
    case 4:
      return { ...base, coords: null };
    case 5:
      return { ...base, device: "d\u0000" };
    default:
      return base;
  }
}

function hostileRegister(r: Rand) {
  const run = smallRun(`fuzz-reg-${int(r, 50)}`);
  const config = runConfigToWire(run.config);
  const variants: Array<Record<string, unknown>> = [
    { config: { ...config, num_experts: pick(r, [0, 2 ** 32 - 1, 5_000]) } },
    { config: { ...config, num_layers: pick(r, [0, 2 ** 32 - 1]) } },
    { world_size: pick(r, [0, 7, 2 ** 32 - 1]) },
    { config: { ...config, extra: Object.fromEntries(Array.from({ length: pick(r, [1, 600]) }, (_, i) => [`k${i}`, "v".repeat(pick(r, [1, 20]))])) } },
    { config: { ...config, extra: { long: "v".repeat(2_000) } } },
    { config: { ...config, extra: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, "v".repeat(1_000)])) } },
    { command_line: Array.from({ length: pick(r, [1, 5_000]) }, () => "x".repeat(int(r, 40))) },
    { name: pick(r, ["<img src=x onerror=alert(1)>", "n".repeat(500), "nul\u0000"]) },
    { gpu_memory_bytes: 2 ** 64 - 1 },
    { config: null },
  ];
  return {
    run_key: run.runKey,
    name: run.name,
    config,
    world_size: run.worldSize,
    gpus_per_node: 8,
    gpu_memory_bytes: run.gpuMemoryBytes,
    framework: "fuzz",
    framework_version: "0",
    simulated: false,
    command_line: [],
    ...pick(r, variants),
  };
}

function hostileOom(r: Rand) {
  return {
    run_key: pick(r, [HOSTILE_RUN, "no-such-run"]),
    rank: pick(r, [0, 3, 8, 2 ** 32 - 1]),
    step: pick(r, [1, ...HUGE]),
    phase: pick(r, ["forward", "p".repeat(100)]),
    ...(r() < 0.5 ? { layer: pick(r, [1, 3, 9, 2 ** 32 - 1]) } : {}),
    message: pick(r, ["CUDA out of memory", "m".repeat(20_000), "<script>x</script>"]),
    ...(r() < 0.5 ? { memory: { allocated_bytes: pick(r, [1, 2 ** 64 - 1]), reserved_bytes: 1, peak_allocated_bytes: 1, num_ooms: 1, num_alloc_retries: 0 } } : {}),
    ...(r() < 0.5 ? { wall_time_ms: pick(r, [1, ...BAD_DOUBLES]) } : {}),
    ...(r() < 0.5 ? { requested_bytes: pick(r, [1024, 2 ** 64 - 1]) } : {}),
  };
}

function hostileEvent(r: Rand) {
  return {
    run_key: pick(r, [HOSTILE_RUN, "no-such-run", ""]),
    rank: pick(r, [0, 8, 2 ** 32 - 1]),
    kind: pick(r, ["CRASH", "FINISHED", "KIND_UNSPECIFIED"]),
    step: pick(r, [1, ...HUGE]),
    message: pick(r, ["boom", "m".repeat(20_000)]),
    ...(r() < 0.5 ? { wall_time_ms: pick(r, [1, ...BAD_DOUBLES]) } : {}),
  };
}

/** mutate damages encoded bytes: flips, truncation, extension, insertion, a huge length prefix, or pure noise. */
function mutate(r: Rand, buf: Buffer): Buffer {
  switch (int(r, 6)) {
    case 0: {
      const out = Buffer.from(buf);
      for (let k = 1 + int(r, 4); k > 0 && out.length > 0; k--) out[int(r, out.length)] = int(r, 256);
      return out;
    }
    case 1:
      return buf.subarray(0, int(r, buf.length + 1));
    case 2:
      return Buffer.concat([buf, bytes(r, 1 + int(r, 64))]);
    case 3: {
      const at = int(r, buf.length + 1);
      return Buffer.concat([buf.subarray(0, at), bytes(r, 1 + int(r, 16)), buf.subarray(at)]);
    }
    case 4:
      // Field 2, wire type 2, with a length varint far beyond the message.
      return Buffer.concat([buf.subarray(0, int(r, buf.length + 1)), Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]), bytes(r, int(r, 8))]);
    default:
      return bytes(r, int(r, 256));
  }
}

interface Tally {
  messages: number;
  calls: number;
  codes: Map<number, number>;
  improper: string[];
}

function note(t: Tally, what: string, code: number, details: string): void {
  t.codes.set(code, (t.codes.get(code) ?? 0) + 1);
  if (!PROPER.has(code) && t.improper.length < 20) t.improper.push(`${what}: ${grpc.status[code]} ${details}`);
}

function unary(raw: Raw, method: string, buf: Buffer): Promise<{ code: number; details: string; metadata?: grpc.Metadata }> {
  return new Promise((resolve) => {
    raw[method](buf, { deadline: Date.now() + 60_000 }, (err: grpc.ServiceError | null) =>
      resolve(err ? { code: err.code, details: err.details, metadata: err.metadata } : { code: grpc.status.OK, details: "" }),
    );
  });
}

/** stream sends frames on one raw stream, reads every reply, and resolves with the final status. */
function stream(raw: Raw, frames: Buffer[]): Promise<{ code: number; details: string; replies: Buffer[] }> {
  return new Promise((resolve) => {
    const call = raw.Stream({ deadline: Date.now() + 60_000 }) as grpc.ClientDuplexStream<Buffer, Buffer>;
    const replies: Buffer[] = [];
    call.on("data", (b: Buffer) => replies.push(b));
    call.on("error", () => undefined);
    call.on("status", (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, replies }));
    for (const f of frames) call.write(f);
    call.end();
  });
}

describe("fuzz: hostile protobuf against a live collector", () => {
  let c: Awaited<ReturnType<typeof startCollector>>;
  let raw: Raw;

  beforeAll(async () => {
    c = await startCollector(tempDatabaseUrl());
    const client = new TelemetryClient(c.address);
    await client.registerRun(smallRun(HOSTILE_RUN));
    await client.registerRun(smallRun(VALID_RUN));
    client.close();
    raw = new RawClient(c.address, grpc.credentials.createInsecure(), { "grpc.max_send_message_length": 64 * 1024 * 1024 }) as unknown as Raw;
  });

  afterAll(async () => {
    raw?.close();
    await c?.stop();
  });

  it(`survives ${TOTAL} hostile messages and stores every valid one (seed ${SEED})`, async () => {
    console.log(`fuzz seed ${SEED} (reproduce with FUZZ_SEED=${SEED}), ${TOTAL} messages`);
    const tally: Tally = { messages: 0, calls: 0, codes: new Map(), improper: [] };
    // Where the workers spent their time, for the summary line (not asserted).
    const busyMs = new Map<string, number>();
    // Valid records: (rank, step) pairs of the valid run, each sent exactly once, by Write or in a stream.
    const expected = new Map<string, number[]>();
    let nextValidStep = 1;
    const takeStep = () => nextValidStep++;

    const sendValidWrite = async (r: Rand) => {
      const rank = pick(r, RANKS);
      const step = takeStep();
      for (let attempt = 0; ; attempt++) {
        const res = await unary(raw, "Write", enc.write({ hello: hello(VALID_RUN, rank), batch: validBatch(rank, step, step) }));
        tally.messages++;
        tally.calls++;
        note(tally, "valid Write", res.code, res.details);
        if (res.code === grpc.status.RESOURCE_EXHAUSTED && attempt < 50) {
          await new Promise((w) => setTimeout(w, Number(res.metadata?.get("retry-after-ms")[0] ?? 50)));
          continue;
        }
        expect(res.code, `valid Write of rank ${rank.rank} step ${step}: ${res.details}`).toBe(grpc.status.OK);
        break;
      }
      for (const l of layersOfStage(rank.coords.pp)) expected.set(`${rank.rank}/${step}/${l}`, report(rank.rank, step, l).tokensPerExpert);
    };

    const sendValidStream = async (r: Rand) => {
      const rank = pick(r, RANKS);
      const steps = Array.from({ length: 1 + int(r, 20) }, takeStep);
      const frames = [enc.client({ hello: hello(VALID_RUN, rank) }), ...steps.map((s) => enc.client({ batch: validBatch(rank, s, s) }))];
      const res = await stream(raw, frames);
      tally.messages += frames.length;
      tally.calls++;
      note(tally, "valid stream", res.code, res.details);
      // A valid stream may be told to come back later (overload); then its batches are resent as Writes.
      if (res.code === grpc.status.RESOURCE_EXHAUSTED) {
        for (const s of steps) {
          const w = await unary(raw, "Write", enc.write({ hello: hello(VALID_RUN, rank), batch: validBatch(rank, s, s) }));
          expect(w.code, w.details).toBe(grpc.status.OK);
        }
      } else {
        expect(res.code, `valid stream of rank ${rank.rank}: ${res.details}`).toBe(grpc.status.OK);
      }
      for (const s of steps) for (const l of layersOfStage(rank.coords.pp)) expected.set(`${rank.rank}/${s}/${l}`, report(rank.rank, s, l).tokensPerExpert);
    };

    const sendHostileUnary = async (r: Rand) => {
      const kind = int(r, 10);
      let method: string;
      let buf: Buffer;
      if (kind < 5) {
        method = "Write";
        const msg = r() < 0.5 ? { hello: hostileHello(r), batch: hostileBatch(r, int(r, 1000)) } : { hello: hello(HOSTILE_RUN, pick(r, RANKS)), batch: hostileBatch(r, int(r, 1000)) };
        buf = enc.write(msg);
      } else if (kind < 7) {
        method = "RegisterRun";
        buf = enc.register(hostileRegister(r));
      } else if (kind < 9) {
        method = "ReportOom";
        buf = enc.oom(hostileOom(r));
      } else {
        method = "ReportEvent";
        buf = enc.event(hostileEvent(r));
      }
      // Half are sent decodable-but-hostile, half damaged on the wire as well.
      if (r() < 0.5) buf = mutate(r, buf);
      const t0 = performance.now();
      const res = await unary(raw, method, buf);
      busyMs.set(`  of which ${method}`, (busyMs.get(`  of which ${method}`) ?? 0) + performance.now() - t0);
      tally.messages++;
      tally.calls++;
      note(tally, `${method} (${buf.length} bytes)`, res.code, res.details);
    };

    const sendHostileStream = async (r: Rand) => {
      const rank = pick(r, RANKS);
      const n = 20 + int(r, 200);
      const frames: Buffer[] = [enc.client({ hello: r() < 0.8 ? hello(HOSTILE_RUN, rank) : hostileHello(r) })];
      for (let i = 1; i <= n; i++) {
        const roll = r();
        if (roll < 0.6) frames.push(enc.client({ batch: hostileBatch(r, i) }));
        else if (roll < 0.9) frames.push(enc.client({ batch: validBatch(rank, 1_000 + int(r, 1_000), i) }));
        else if (roll < 0.95) frames.push(enc.client({ hello: hostileHello(r) }));
        else frames.push(mutate(r, enc.client({ batch: hostileBatch(r, i) })));
      }
      if (r() < 0.3) frames.push(bytes(r, int(r, 64)));
      const res = await stream(raw, frames);
      tally.messages += frames.length;
      tally.calls++;
      note(tally, `stream of ${frames.length} frames`, res.code, res.details);
    };

    const worker = async (w: number) => {
      const r = prng(SEED + w * 7919);
      while (tally.messages < TOTAL) {
        const roll = r();
        const t0 = performance.now();
        // Unary calls cost a database round trip each, stream frames far less: most messages are frames.
        const kind = roll < 0.03 ? "valid Write" : roll < 0.05 ? "valid stream" : roll < 0.6 ? "hostile unary" : "hostile stream";
        if (roll < 0.03) await sendValidWrite(r);
        else if (roll < 0.05) await sendValidStream(r);
        else if (roll < 0.6) await sendHostileUnary(r);
        else await sendHostileStream(r);
        busyMs.set(kind, (busyMs.get(kind) ?? 0) + performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    const summary = [...tally.codes].map(([code, n]) => `${grpc.status[code]} ${n}`).join(", ");
    const busy = [...busyMs].map(([k, ms]) => `${k} ${Math.round(ms / 1000)} s`).join(", ");
    console.log(`fuzz: ${tally.messages} messages in ${tally.calls} calls/streams; statuses: ${summary}; worker time: ${busy}`);
    expect(tally.messages).toBeGreaterThanOrEqual(TOTAL);
    expect(tally.improper, `improper statuses (seed ${SEED})`).toEqual([]);
    // The hostile traffic really exercised the validators, not only the decoder.
    expect(tally.codes.get(grpc.status.INVALID_ARGUMENT) ?? 0).toBeGreaterThan(tally.calls / 4);

    // Still serving: the standard health check answers SERVING (HealthCheckResponse{status: 1} = 08 01).
    const health = await new Promise<Buffer>((resolve, reject) =>
      raw.Check(Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (err: Error | null, res: Buffer) => (err ? reject(err) : resolve(res))),
    );
    expect([...health]).toEqual([0x08, 0x01]);

    // Every valid record is stored, exactly.
    const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: VALID_RUN } });
    const rows = await c.db.prisma.layerReport.findMany({ where: { runId: run.id } });
    const stored = new Map(rows.map((row) => [`${row.rank}/${row.step}/${row.layer}`, unpackCounts(row.counts)]));
    expect(stored.size).toBe(expected.size);
    for (const [key, counts] of expected) expect(stored.get(key), key).toEqual(counts);
    const stepRows = await c.db.prisma.stepSample.count({ where: { runId: run.id } });
    expect(stepRows).toBe(new Set([...expected.keys()].map((k) => k.split("/").slice(0, 2).join("/"))).size);
  });
});
