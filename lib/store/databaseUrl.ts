/**
 * Parsing of DATABASE_URL: which engine, and for SQLite which file. Shared by the collector, the web
 * app and the CLI so every process resolves the same relative path the same way.
 */
import path from "node:path";
import { InvalidInput } from "../analysis/errors";

/** DEFAULT_DATABASE_URL is the embedded SQLite file used when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = "file:./data/moe-telemetry.db";

/** DatabaseTarget: where the data lives. */
export type DatabaseTarget =
  | { dialect: "sqlite"; url: string; file: string }
  | { dialect: "postgresql"; url: string };

/** parseDatabaseUrl resolves a DATABASE_URL (relative SQLite paths against `cwd`). */
export function parseDatabaseUrl(url: string = DEFAULT_DATABASE_URL, cwd: string = process.cwd()): DatabaseTarget {
  if (url.startsWith("file:")) {
    const raw = url.slice("file:".length).split("?")[0];
    if (raw.length === 0) throw new InvalidInput(`DATABASE_URL "${url}" names no file`, "DATABASE_URL");
    const file = raw === ":memory:" ? raw : path.resolve(cwd, raw);
    return { dialect: "sqlite", url: `file:${file}`, file };
  }
  if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
    return { dialect: "postgresql", url };
  }
  throw new InvalidInput(
    `DATABASE_URL "${redactUrl(url)}" is not supported: use file:PATH for the embedded SQLite database or postgresql://...`,
    "DATABASE_URL",
  );
}

/** redactUrl hides a password in a connection URL before it is logged or shown. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}
