/**
 * Process configuration from environment variables, parsed once at start with zod so a bad
 * setting fails at boot with a message naming it.
 */
import { z } from "zod";
import { DEFAULT_DATABASE_URL } from "./databaseUrl";
import { parseProxyEntry } from "./auth/forwarding";

const port = z.coerce.number().int().min(0).max(65_535);

const EnvSchema = z.object({
  DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
  PORT: port.default(3000),
  COLLECTOR_HOST: z.string().min(1).default("0.0.0.0"),
  COLLECTOR_PORT: port.default(50051),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  FLUSH_INTERVAL_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  FLUSH_MAX_RECORDS: z.coerce.number().int().min(1).default(20_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  /** Comma-separated webhook URLs that receive alert notifications (Slack-compatible JSON). */
  ALERT_WEBHOOK_URLS: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/, error: "each ALERT_WEBHOOK_URLS entry must be an http(s) URL" }))),
  /** JSON file of global alert rule overrides. */
  ALERT_RULES_FILE: z.string().optional(),
  /**
   * Comma-separated addresses or CIDR ranges of the reverse proxies in front of the dashboard; only requests
   * from these may set X-Forwarded-For/-Host/-Proto. Empty (default): no proxy, the socket address counts.
   */
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((e) => e.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((e) => parseProxyEntry(e) !== null, { error: "each TRUSTED_PROXIES entry must be an IP address or CIDR range (10.0.0.5, 10.0.0.0/8, ::1)" }))),
  /** Public URL of the dashboard, for links in webhook notifications. */
  DASHBOARD_URL: z.url().optional(),
  /** Ingest-token checks in the collector: "on" (default) or "off" (runs then belong to no project). */
  INGEST_AUTH: z.enum(["on", "off"], { error: 'INGEST_AUTH must be "on" or "off"' }).default("on"),
  /** PEM files of the collector's TLS certificate (chain) and key; both or neither. */
  COLLECTOR_TLS_CERT: z.string().min(1).optional(),
  COLLECTOR_TLS_KEY: z.string().min(1).optional(),
  /** PEM file of the CA that signs client certificates; when set, every client must present one. */
  COLLECTOR_TLS_CLIENT_CA: z.string().min(1).optional(),
});

/** Env: the parsed settings. */
export type Env = z.infer<typeof EnvSchema>;

/** parseEnv validates the environment and throws an error naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}
