/**
 * Unexpected errors (a bug, a database failure) are logged in full under a short id, and the caller is
 * answered with the id only: an error's message can carry SQL, file paths or stored values that are not the
 * caller's to see. Every edge (HTTP routes, the dashboard's access check, gRPC handlers) goes through this.
 */
import { randomUUID } from "node:crypto";

/** InternalErrorLog: where the full error goes (pino's `logger.error` fits). */
export type InternalErrorLog = (fields: { errorId: string; err: unknown }, message: string) => void;

const consoleLog: InternalErrorLog = (fields, message) => console.error(message, fields.errorId, fields.err);

/** internalErrorId logs `err` under a new id and returns the id. */
export function internalErrorId(err: unknown, log: InternalErrorLog = consoleLog, what = "internal error"): string {
  const errorId = randomUUID().slice(0, 8);
  log({ errorId, err }, what);
  return errorId;
}

/** internalErrorMessage is what a caller is told: no detail, the id to find it in the server's log. */
export function internalErrorMessage(errorId: string, what = "internal error"): string {
  return `${what} (error id ${errorId}; the server's log has the details)`;
}
