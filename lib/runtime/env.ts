/**
 * Process configuration from environment variables, parsed once at start with zod so a bad
 * setting fails at boot with a message naming it.
 */
import { z } from "zod";
import { DEFAULT_DATABASE_URL } from "../store/databaseUrl";
import { isIP } from "node:net";

const port = z.coerce.number().int().min(0).max(65_535);

/** parseProxyEntry checks one TRUSTED_PROXIES entry ("10.0.0.5", "10.0.0.0/8", "::1", "fd00::/8") and returns null when it is not one. */
export function parseProxyEntry(entry: string): { address: string; prefix: number | null; family: "ipv4" | "ipv6" } | null {
  const [address, bits, extra] = entry.trim().split("/");
  const v = isIP(address ?? "");
  if (!v || extra !== undefined) return null;
  const family = v === 4 ? "ipv4" : "ipv6";
  if (bits === undefined) return { address, prefix: null, family };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (v === 4 ? 32 : 128)) return null;
  return { address, prefix: Number(bits), family };
}

// "on"/"off"-style settings: blank means the default, case and spaces do not matter, a typo is an error.
const choice = <T extends string>(name: string, values: readonly [T, ...T[]], fallback: T) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? "").trim().toLowerCase() || fallback)
    .pipe(z.enum(values, { error: `${name} must be ${values.map((v) => `"${v}"`).join(", ").replace(/, ([^,]*)$/, " or $1")}` }));

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
  /** Alertmanager's group_wait: how long a new (run, rule) alert group gathers members before its first webhook message. */
  ALERT_GROUP_WAIT_MS: z.coerce.number().int().min(0).default(5_000),
  /** Alertmanager's group_interval: at most one webhook message per group in this time while its members change. */
  ALERT_GROUP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
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
  /** Public URL of the dashboard, for links in webhook notifications and the origin check behind a proxy. */
  DASHBOARD_URL: z.url().optional(),
  /** Dashboard login: "on" (default) or "off" (every page then says so). A typo must never open the dashboard. */
  DASHBOARD_AUTH: choice("DASHBOARD_AUTH", ["on", "off"], "on"),
  /** The session cookie's Secure flag: "auto" (when the request came over https), "on" or "off". */
  COOKIE_SECURE: choice("COOKIE_SECURE", ["auto", "on", "off"], "auto"),
  /** Bearer token Prometheus may scrape /metrics with (at least 16 characters); unset: a session is needed. */
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined)
    .pipe(z.string().min(16, "METRICS_TOKEN must have at least 16 characters").optional()),
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

/** envSetting validates one setting with the schema parseEnv uses (the dashboard reads its settings one by one). */
export function envSetting<K extends keyof Env>(name: K, source: Record<string, string | undefined> = process.env): Env[K] {
  const r = EnvSchema.shape[name].safeParse(source[name]);
  if (!r.success) throw new Error(`invalid environment: ${name}: ${r.error.issues[0].message}`);
  return r.data as Env[K];
}

/** parseEnv validates the environment and throws an error naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}
