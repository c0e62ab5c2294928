/**
 * Structured JSON logs (pino) for the collector and the CLI.
 */
import { pino, type Logger } from "pino";

/** createLogger returns a pino logger writing JSON lines to stdout (or stderr when `toStderr`). */
export function createLogger(level: string = "info", toStderr = false): Logger {
  return pino({ level, base: { service: "moe-telemetry" } }, pino.destination(toStderr ? 2 : 1));
}
