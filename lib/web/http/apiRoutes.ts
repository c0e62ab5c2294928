/**
 * Every route of the dashboard's HTTP API, with the zod schemas its handler parses the query and the body
 * with. The handlers take their schemas from here (`apiRoute("GET /api/...")`) and the OpenAPI document
 * (openapi.ts) is generated from the same entries, so a parameter cannot be documented one way and parsed
 * another. test/integration/openapi.test.ts checks that every route file is here, and uses its entry.
 */
import { z } from "zod";
import { RuleOverridesSchema } from "../../analysis/alerts/alertRules";
import { DEFAULT_POSTMORTEM_WINDOW } from "../data/postmortemQueries";

/** stepParam is a non-negative integer query parameter. */
export const stepParam = z.coerce.number().int().min(0);

/** layersParam parses "1,2,5" into layer numbers. */
export const layersParam = z
  .string()
  .regex(/^\d+(,\d+)*$/, "expected comma-separated layer numbers such as 1,2,5")
  .transform((s) => s.split(",").map(Number));

const flag = z
  .enum(["0", "1", "true", "false"])
  .optional()
  .transform((v) => v === "1" || v === "true");

/** CredentialsBody: a username and password (login, first admin, new users). */
export const CredentialsBody = z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1024) });

/** ResponseRef names what a route answers: a component schema (array or not) or a plain description. */
export type ResponseRef = { schema: string; array?: boolean; description?: string; contentType?: string } | { description: string; contentType?: string };

/** ApiRoute: one method of one path. */
export interface ApiRoute {
  summary: string;
  description?: string;
  /** Query parameters, as the handler parses them. */
  query?: z.ZodObject;
  /** JSON body, as the handler parses it. */
  body?: z.ZodType;
  /** Path parameters other than runId, with their descriptions. */
  pathParams?: Record<string, string>;
  /** No session needed (login, health, ...). */
  public?: boolean;
  /** Successful answer (default status 200). */
  ok: ResponseRef;
  okStatus?: 200 | 201;
  /** Error statuses the route answers besides 401/403 from the access rules. */
  errors?: number[];
}

const runIdDoc = "Run id (from /api/runs)";
const maxPoints = (def: number) => z.coerce.number().int().min(1).max(5_000).optional().describe(`Most buckets to return (default ${def})`);

/** API_ROUTES: every route, keyed "METHOD /path" with OpenAPI path syntax ({param}). */
export const API_ROUTES = {
  "GET /api/health": { summary: "Database reachability", public: true, ok: { description: "OK" }, errors: [500] },
  "GET /api/runs": { summary: "All runs, newest first", ok: { schema: "RunSummary", array: true } },
  "GET /api/runs/{runId}": { summary: "One run: configuration, layers, derived sizes, events", ok: { schema: "RunDetail" }, errors: [404] },
  "GET /api/runs/{runId}/losses": {
    summary: "Per-layer loss series (mean over ranks), downsampled to at most maxPoints buckets",
    query: z.object({
      layers: layersParam.optional().describe("Comma-separated MoE layer numbers (default: all)"),
      from: stepParam.optional(),
      to: stepParam.optional(),
      maxPoints: maxPoints(600),
    }),
    ok: { schema: "LossSeries" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/heatmap/layers": {
    summary: "MoE layers x experts global load at one step",
    query: z.object({ step: stepParam.optional().describe("Step (default: newest complete step)") }),
    ok: { schema: "LayerHeatmap" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/heatmap/experts": {
    summary: "Experts x steps global load of one MoE layer, downsampled (per-expert max per bucket)",
    query: z.object({
      layer: z.coerce.number().int().min(1),
      from: stepParam.optional(),
      to: stepParam.optional(),
      maxColumns: z.coerce.number().int().min(1).max(5_000).optional().describe("Most step columns (default 400)"),
    }),
    ok: { schema: "ExpertHeatmap" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/aggregates": {
    summary: "Cross-rank aggregate of every MoE layer at one step",
    query: z.object({ step: stepParam }),
    ok: { schema: "LayerAggregate", array: true },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/imbalance": {
    summary: "MoE layers x steps of one imbalance metric (worst value per bucket) with min/median/p90/max across layers",
    query: z.object({
      metric: z.enum(["maxVio", "cv", "entropy", "epImbalance"]).default("maxVio"),
      from: stepParam.optional(),
      to: stepParam.optional(),
      maxColumns: z.coerce.number().int().min(1).max(5_000).optional().describe("Most step columns (default 300)"),
    }),
    ok: { description: "OK" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/metrics": {
    summary: "Every MoE layer's MaxVio, CV, normalized entropy, dead/hottest/coldest experts and EP imbalance at a step",
    description:
      "The router metrics use the counts before capacity dropping where ranks sent them (loadBasis: before-drop | no-drop | " +
      "dispatched-only); `dispatched` holds the same metrics after dropping where they differ; epImbalance is on received (post-drop) tokens.",
    query: z.object({ step: stepParam.optional().describe("Step (default: newest complete step)") }),
    ok: { description: "OK" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/ep-load": {
    summary: "Tokens received per EP rank in each ETP x EP dispatch group, one layer, one step",
    description:
      "received: after capacity dropping (what the EP rank's memory holds; every TP source counts, also without sequence parallelism). " +
      "demand: before dropping, null when no rank sent counts before dropping.",
    query: z.object({ step: stepParam, layer: z.coerce.number().int().min(1) }),
    ok: { description: "OK" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/capacity": {
    summary: "Capacity what-if: predicted dropped assignments per MoE layer at a capacity factor (Megatron's get_capacity per source rank)",
    description: "Per layer the totals and perRank: each source rank's capacity C (and m x C over its micro-batches) and its drops.",
    query: z.object({
      cf: z.coerce.number().positive().max(64).describe("Capacity factor to evaluate"),
      step: stepParam.optional().describe("Step (default: newest complete step)"),
    }),
    ok: { description: "OK" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/advice": {
    summary:
      "Computed mitigations: ETP/EP, capacity factor, recomputation, router levers, revert; each with flag changes against the launch line, a diff, rationale numbers, cost and validity",
    query: z.object({ step: stepParam.optional().describe("Step (default: newest complete step)") }),
    ok: { description: "OK" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/export": {
    summary:
      "Download the run: per-(step, layer) aggregates, or with raw=1 the per-rank counts, or in CSV with series=1 the named series (JSON always has them), as CSV or JSON",
    query: z.object({ format: z.enum(["csv", "json"]).default("csv"), raw: flag, series: flag }),
    ok: { description: "text/csv or application/json attachment" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/scalars": {
    summary: "Named series of the run (imported Megatron logs and TensorBoard files, and the run-level router losses of live runs): layer 0 = run-level; downsampled with min/max",
    query: z.object({
      names: z
        .string()
        .optional()
        .transform((s) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : undefined))
        .describe("Comma-separated series names"),
      maxPoints: maxPoints(600),
    }),
    ok: { description: "OK" },
    errors: [400, 404],
  },
  "GET /api/runs/{runId}/postmortem/{eventId}": {
    summary:
      "OOM post-mortem: the dying rank's EP rank and dispatch group, per-layer tokens received vs its group's mean over the last `window` steps, its and its group's memory, the alerts that overlapped, and a computed explanation",
    pathParams: { eventId: "An OOM event id (from /api/runs/{runId}/events)" },
    query: z.object({ window: z.coerce.number().int().min(2).max(500).default(DEFAULT_POSTMORTEM_WINDOW) }),
    ok: { description: "OK" },
    errors: [400, 404],
  },
  "GET /api/compare": {
    summary:
      "Per-layer aux loss, MaxVio and EP imbalance of several runs (downsampled, min/max kept), x = step or cumulative tokens, and a config diff with a `differs` flag per argument",
    query: z.object({
      runs: z
        .string()
        .min(1, "expected comma-separated run ids")
        .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
        .describe("Comma-separated run ids (1 to 8)"),
      layer: z.coerce.number().int().min(1).optional().describe("One MoE layer (default: every MoE layer)"),
      alignBy: z.enum(["step", "tokens"]).default("step"),
      maxPoints: z.coerce.number().int().min(1).max(5000).default(300),
    }),
    ok: { description: "OK" },
    errors: [400],
  },
  "GET /api/runs/{runId}/events": { summary: "OOM, crash and finish events", ok: { schema: "RunEvent", array: true }, errors: [404] },
  "GET /api/runs/{runId}/live": {
    summary: "Server-Sent Events: `update` with a LiveUpdate whenever the run changes (checked every 250 ms)",
    ok: { schema: "LiveUpdate", contentType: "text/event-stream" },
    errors: [404],
  },
  "GET /api/live": { summary: "Server-Sent Events: `update` with {version} whenever any run changes", ok: { description: "text/event-stream" } },
  "GET /api/alerts": {
    summary: "Alert episodes across runs, firing first",
    query: z.object({
      status: z.enum(["firing", "resolved", "all"]).default("all"),
      runId: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(1_000).optional().describe("Most episodes (default 200)"),
    }),
    ok: { schema: "Alert", array: true },
    errors: [400],
  },
  "GET /api/alerts/{alertId}/deliveries": {
    summary: "Webhook delivery log of one alert",
    pathParams: { alertId: "An alert id (from /api/alerts)" },
    ok: { description: "OK" },
    errors: [404],
  },
  "GET /api/runs/{runId}/alerts": { summary: "The run's alert episodes", ok: { schema: "Alert", array: true }, errors: [404] },
  "GET /api/alert-rules": { summary: "Global alert rules: defaults, overrides, effective", ok: { description: "OK" } },
  "PUT /api/alert-rules": {
    summary: 'Replace the global overrides (JSON object keyed by rule id, e.g. {"ep-imbalance-high": {"threshold": 1.8, "forMs": 5000}}) (editor)',
    body: RuleOverridesSchema,
    ok: { description: "OK" },
    errors: [400],
  },
  "GET /api/runs/{runId}/alert-rules": { summary: "The run's alert rules", ok: { description: "OK" }, errors: [404] },
  "PUT /api/runs/{runId}/alert-rules": { summary: "Replace the run's overrides (editor)", body: RuleOverridesSchema, ok: { description: "OK" }, errors: [400, 404] },
  "POST /api/config/check": {
    summary: "Check a pasted Megatron launch line or argv array: configuration, derived sizes, MoE layers per stage, violated constraints",
    body: z.object({
      commandLine: z.union([z.string().min(1).max(200_000), z.array(z.string().max(10_000)).min(1).max(10_000)]),
      worldSize: z.number().int().positive().optional(),
      gpusPerNode: z.number().int().positive().optional(),
    }),
    ok: { description: "OK" },
    errors: [400],
  },
  "POST /api/import": {
    summary:
      "Import a Megatron log, a TensorBoard event file or a tokens-per-expert JSONL dump (multipart/form-data: kind, file, and optionally run, config, layers, experts, topk, worldSize) (editor)",
    description: "Runs the same importer as `moe-telemetry import` and answers its JSON summary; 400 with the importer's message.",
    ok: { description: "The import summary" },
    errors: [400, 413],
  },
  "GET /metrics": {
    summary:
      "Prometheus text format: moe_alert_firing, moe_run_ep_imbalance_worst, moe_layer_maxvio, moe_layer_ep_imbalance, moe_rank_peak_memory_ratio, moe_run_last_step",
    ok: { description: "text/plain" },
  },
  "GET /api/openapi.json": { summary: "This document", public: true, ok: { description: "OK" } },
  "POST /api/auth/login": {
    summary: "Sign in: sets the HttpOnly session cookie. One message for every failure (401); 429 with Retry-After after repeated failures",
    public: true,
    body: CredentialsBody,
    ok: { description: "Signed in (Set-Cookie: moe_session)" },
    errors: [400, 401, 403, 429],
  },
  "POST /api/auth/logout": { summary: "Sign out: deletes the session, so the old cookie stops working", public: true, ok: { description: "OK" } },
  "GET /api/auth/me": { summary: "Whether login is on, and who is signed in ({auth, user: {username, role} | null})", public: true, ok: { description: "OK" } },
  "GET /api/auth/setup": { summary: "Whether the first admin still has to be created", public: true, ok: { description: "OK" } },
  "POST /api/auth/setup": {
    summary: "Create the first admin with the setup code the server printed at start (only while there is no user); signs in",
    public: true,
    body: CredentialsBody.extend({ code: z.string().min(1).max(100) }),
    ok: { description: "Created and signed in" },
    errors: [400, 403, 409, 429],
  },
  "GET /api/admin/users": { summary: "Dashboard users (admin)", ok: { schema: "User", array: true } },
  "POST /api/admin/users": {
    summary: "Create a user (admin)",
    body: z.object({ username: z.string(), password: z.string(), role: z.string().describe("viewer | editor | admin") }),
    ok: { schema: "User" },
    okStatus: 201,
    errors: [400, 409],
  },
  "PATCH /api/admin/users/{username}": {
    summary:
      "Change a user's role, disable/enable them, or reset their password (ends their sessions) (admin); the last enabled admin cannot be demoted or disabled (409)",
    pathParams: { username: "The user's name" },
    body: z.object({ role: z.string().optional().describe("viewer | editor | admin"), disabled: z.boolean().optional(), password: z.string().optional() }).strict(),
    ok: { schema: "User" },
    errors: [400, 404, 409],
  },
  "GET /api/admin/tokens": { summary: "Projects and ingest tokens, never the secrets (admin): {ingestAuth, projects, tokens}", ok: { description: "OK" } },
  "POST /api/admin/tokens": {
    summary: "Create an ingest token (and its project if new) (admin); the answer's `token` is the only time the secret is shown",
    body: z.object({ projectName: z.string().min(1).max(200), name: z.string().min(1).max(200) }),
    ok: { description: "{token, info}" },
    okStatus: 201,
    errors: [400],
  },
  "DELETE /api/admin/tokens/{tokenId}": {
    summary: "Revoke an ingest token (it stays listed as revoked) (admin)",
    pathParams: { tokenId: "The token's id (from GET /api/admin/tokens)" },
    ok: { description: "OK" },
    errors: [404],
  },
} satisfies Record<string, ApiRoute>;

/** ApiRouteKey: "METHOD /path" of a route in API_ROUTES. */
export type ApiRouteKey = keyof typeof API_ROUTES;

/** apiRoute returns the entry of one route (its handler parses with the schemas in it). */
export function apiRoute<K extends ApiRouteKey>(key: K): (typeof API_ROUTES)[K] {
  return API_ROUTES[key];
}

/** runIdParamDoc: how the runId path parameter is described. */
export const RUN_ID_DOC = runIdDoc;
