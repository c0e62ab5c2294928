/**
 * Maps the product's error hierarchy to gRPC status codes, once, for every handler.
 */
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { internalErrorId, internalErrorMessage } from "../lib/runtime/internalError";
import { Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated, Unavailable } from "../lib/analysis/errors";

/** toServiceError turns any thrown value into a gRPC error with a human message. */
export function toServiceError(err: unknown, log?: Logger): Partial<grpc.StatusObject> {
  if (err instanceof InvalidInput) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof NotFound) return { code: grpc.status.NOT_FOUND, details: err.message };
  if (err instanceof Conflict) return { code: grpc.status.FAILED_PRECONDITION, details: err.message };
  if (err instanceof Unavailable) return { code: grpc.status.UNAVAILABLE, details: err.message };
  if (err instanceof Unauthenticated) return { code: grpc.status.UNAUTHENTICATED, details: err.message };
  if (err instanceof Forbidden) return { code: grpc.status.PERMISSION_DENIED, details: err.message };
  // The message of an unexpected error is not the client's to see: logged under an id, answered with the id.
  const errorId = internalErrorId(err, log ? (fields, message) => log.error(fields, message) : undefined);
  return { code: grpc.status.INTERNAL, details: internalErrorMessage(errorId) };
}
