/**
 * Limit (a) of the ingest bench: a grpc-js server with the product's proto and the collector's server
 * options whose handlers let grpc-js decode each message, validate nothing, store nothing and ack at
 * once. Whatever the real collector costs beyond this is validation, persistence and aggregation.
 * Runs as its own process (so its CPU time is measured alone):
 *
 *   node --import tsx bench/lib/nullCollector.ts      -> prints "null collector listening on 127.0.0.1:PORT"
 */
import * as grpc from "@grpc/grpc-js";
import { loadTelemetryProto } from "../../lib/wire/loadTelemetryProto";
import type { ClientMessage__Output } from "../../generated/proto/moe/telemetry/v1/ClientMessage";
import type { ServerMessage } from "../../generated/proto/moe/telemetry/v1/ServerMessage";
import type { TelemetryHandlers } from "../../generated/proto/moe/telemetry/v1/Telemetry";

const server = new grpc.Server({
  "grpc.max_receive_message_length": 32 * 1024 * 1024,
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
});
let messages = 0;

const handlers: TelemetryHandlers = {
  RegisterRun: (call, callback) => callback(null, { run_id: `null-${call.request.run_key}`, created: true, moe_layers: [] }),
  Stream: (call: grpc.ServerDuplexStream<ClientMessage__Output, ServerMessage>) => {
    call.on("data", (msg: ClientMessage__Output) => {
      messages++;
      if (msg.hello) {
        call.write({ welcome: { run_id: `null-${msg.hello.run_key}`, durable_seq: 0, num_experts: 0, moe_layers: [] } });
      } else if (msg.batch) {
        const accepted = msg.batch.layers.length + msg.batch.steps.length + msg.batch.scalars.length;
        call.write({ result: { seq: msg.batch.seq, accepted, rejected: [] } });
        call.write({ ack: { durable_seq: msg.batch.seq } });
      }
    });
    call.on("end", () => call.end());
    call.on("error", () => undefined);
  },
  Write: (call, callback) => callback(null, { durable_seq: call.request.batch?.seq ?? 0, accepted: call.request.batch?.layers.length ?? 0 }),
  ReportOom: (_call, callback) => callback(null, { event_id: "null" }),
  ReportEvent: (_call, callback) => callback(null, { event_id: "null" }),
};

server.addService(loadTelemetryProto().Telemetry.service, handlers);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(`null collector: cannot listen: ${err.message}`);
    process.exit(1);
  }
  console.log(`null collector listening on 127.0.0.1:${port}`);
});
process.on("SIGTERM", () => {
  console.log(`null collector: ${messages} messages`);
  server.forceShutdown();
  process.exit(0);
});
