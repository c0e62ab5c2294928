/**
 * Malformed protobuf is the sender's fault, so it gets INVALID_ARGUMENT. grpc-js answers a request it
 * cannot decode with INTERNAL ("Error deserializing request"), which reads as a collector bug and sends
 * operators hunting in the wrong place. The service definition's request decoders are wrapped so a
 * decode error becomes a marker object; the handlers answer it with INVALID_ARGUMENT naming the message
 * type and the decoder's complaint, and a stream ends the same way.
 */
import * as grpc from "@grpc/grpc-js";
import { overloadStatus } from "./admission";

const MALFORMED = Symbol("malformed protobuf");
const REFUSED = Symbol("refused before decoding");

/**
 * RefuseBeforeDecode: asked with a request's method name and wire size before it is decoded; returns the
 * error to answer with (the collector is overloaded) or null to decode. Refusing here saves the decoding
 * work and the garbage of a message that would be refused anyway: under a burst that is most of them.
 */
export type RefuseBeforeDecode = (method: string, wireBytes: number) => Error | null;

/** Malformed: what a request decoder returns instead of throwing. */
export interface Malformed {
  [MALFORMED]: string;
}

/** malformedReason returns the decode error of a marker object, or null for a decoded message. */
export function malformedReason(msg: unknown): string | null {
  return typeof msg === "object" && msg !== null && MALFORMED in msg ? (msg as Malformed)[MALFORMED] : null;
}

/** tolerantService wraps every method's request decoder so it never throws (and may refuse before decoding). */
export function tolerantService(def: grpc.ServiceDefinition, refuse?: RefuseBeforeDecode): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(def)) {
    const type = method.path.split("/").pop() ?? name;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const refused = method.requestStream ? null : refuse?.(type, bytes.length);
        if (refused) return { [REFUSED]: refused };
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          const reason = `the ${type} request is not valid protobuf (${bytes.length} bytes): ${err instanceof Error ? err.message : String(err)}`;
          return { [MALFORMED]: reason } satisfies Malformed;
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/**
 * guardUnary wraps the unary handlers so a malformed request is answered with INVALID_ARGUMENT before
 * the handler sees it; streaming handlers check each message with malformedReason themselves.
 */
export function guardUnary<T extends object>(handlers: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(handlers)) {
    if (typeof fn !== "function" || fn.length < 2) {
      out[name] = fn;
      continue;
    }
    out[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const refused = typeof call.request === "object" && call.request !== null && REFUSED in call.request ? (call.request as { [REFUSED]: Error })[REFUSED] : null;
      if (refused) return callback(overloadStatus(refused) ?? { code: grpc.status.RESOURCE_EXHAUSTED, details: refused.message });
      const reason = malformedReason(call.request);
      if (reason) return callback({ code: grpc.status.INVALID_ARGUMENT, details: reason });
      return (fn as (c: typeof call, cb: typeof callback) => void)(call, callback);
    };
  }
  return out as T;
}
