/**
 * Loads proto/moe/telemetry/v1/telemetry.proto at run time with exactly the options the type
 * generator (`npm run gen:proto`) uses, so the generated types describe what the loader returns.
 */
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType } from "../../generated/proto/telemetry";

/** PROTO_ROOT is the folder holding the wire contract. */
export const PROTO_ROOT = path.resolve(import.meta.dirname, "../../proto");

/** LOADER_OPTIONS mirror the flags of `proto-loader-gen-types` in package.json. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

let cached: ProtoGrpcType["moe"]["telemetry"]["v1"] | null = null;

/** loadTelemetryProto returns the moe.telemetry.v1 package (service and message definitions). */
export function loadTelemetryProto(): ProtoGrpcType["moe"]["telemetry"]["v1"] {
  if (!cached) {
    const def = protoLoader.loadSync("moe/telemetry/v1/telemetry.proto", LOADER_OPTIONS);
    cached = (grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType).moe.telemetry.v1;
  }
  return cached;
}
