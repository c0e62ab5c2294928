/**
 * The OpenAPI 3.1 description of the dashboard's HTTP API, served at /api/openapi.json.
 */

const runId = { name: "runId", in: "path", required: true, schema: { type: "string" }, description: "Run id (from /api/runs)" };
const step = (description: string, required = false) => ({ name: "step", in: "query", required, schema: { type: "integer", minimum: 0 }, description });
const err = { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
const ok = (ref: string, array = false) => ({
  description: "OK",
  content: { "application/json": { schema: array ? { type: "array", items: { $ref: `#/components/schemas/${ref}` } } : { $ref: `#/components/schemas/${ref}` } } },
});
const point = { type: "object", required: ["step", "value", "min", "max"], properties: { step: { type: "integer" }, value: { type: "number" }, min: { type: "number" }, max: { type: "number" } } };
const memory = {
  type: ["object", "null"],
  properties: {
    allocatedBytes: { type: "integer" }, reservedBytes: { type: "integer" }, peakAllocatedBytes: { type: "integer" },
    numOoms: { type: "integer" }, numAllocRetries: { type: "integer" },
  },
};
const status = { type: "string", enum: ["running", "stale", "finished", "crashed", "oom"] };
const countsRouter = {
  type: "array",
  items: { type: "integer" },
  description: "Router load per expert: the counts before capacity dropping where ranks sent them, else the dispatched counts",
};
const countsDispatched = {
  type: ["array", "null"],
  items: { type: "integer" },
  description: "Dispatched load per expert after capacity dropping; null where it equals load (no capacity factor or nothing dropped)",
};
const loadBasis = {
  type: "string",
  enum: ["before-drop", "no-drop", "dispatched-only"],
  description: "Which counts load holds; dispatched-only: a capacity factor dropped assignments but ranks did not send counts before dropping",
};
const lossName = { type: "string", enum: ["load_balancing_loss", "seq_load_balancing_loss", "global_load_balancing_loss", "z_loss"] };

/** OPENAPI_DOCUMENT describes every route under /api. */
export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "moe-telemetry dashboard API",
    version: "1.0.0",
    description:
      "Read-only JSON API over what the collector stored: runs, per-layer router losses, expert-load heatmaps and cross-rank aggregates. " +
      "Series are downsampled on the server (bucket min/max kept). Live changes are pushed as Server-Sent Events.",
  },
  // Every operation needs the session cookie unless it says `security: []`.
  security: [{ session: [] }],
  paths: {
    "/api/health": { get: { summary: "Database reachability", security: [], responses: { 200: { description: "OK" }, 500: err } } },
    "/api/runs": { get: { summary: "All runs, newest first", responses: { 200: ok("RunSummary", true) } } },
    "/api/runs/{runId}": { get: { summary: "One run: configuration, layers, derived sizes, events", parameters: [runId], responses: { 200: ok("RunDetail"), 404: err } } },
    "/api/runs/{runId}/losses": {
      get: {
        summary: "Per-layer loss series (mean over ranks), downsampled to at most maxPoints buckets",
        parameters: [
          runId,
          { name: "layers", in: "query", schema: { type: "string", pattern: "^\\d+(,\\d+)*$" }, description: "Comma-separated MoE layer numbers (default: all)" },
          { name: "from", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "to", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "maxPoints", in: "query", schema: { type: "integer", minimum: 1, maximum: 5000, default: 600 } },
        ],
        responses: { 200: ok("LossSeries"), 400: err, 404: err },
      },
    },
    "/api/runs/{runId}/heatmap/layers": {
      get: { summary: "MoE layers x experts global load at one step", parameters: [runId, step("Step (default: newest complete step)")], responses: { 200: ok("LayerHeatmap"), 400: err, 404: err } },
    },
    "/api/runs/{runId}/heatmap/experts": {
      get: {
        summary: "Experts x steps global load of one MoE layer, downsampled (per-expert max per bucket)",
        parameters: [
          runId,
          { name: "layer", in: "query", required: true, schema: { type: "integer", minimum: 1 } },
          { name: "from", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "to", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "maxColumns", in: "query", schema: { type: "integer", minimum: 1, maximum: 5000, default: 400 } },
        ],
        responses: { 200: ok("ExpertHeatmap"), 400: err, 404: err },
      },
    },
    "/api/runs/{runId}/aggregates": {
      get: { summary: "Cross-rank aggregate of every MoE layer at one step", parameters: [runId, step("Step", true)], responses: { 200: ok("LayerAggregate", true), 400: err, 404: err } },
    },
    "/api/runs/{runId}/imbalance": {
      get: {
        summary: "MoE layers x steps of one imbalance metric (worst value per bucket) with min/median/p90/max across layers",
        parameters: [
          runId,
          { name: "metric", in: "query", schema: { type: "string", enum: ["maxVio", "cv", "entropy", "epImbalance"], default: "maxVio" } },
          { name: "from", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "to", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "maxColumns", in: "query", schema: { type: "integer", minimum: 1, maximum: 5000, default: 300 } },
        ],
        responses: { 200: { description: "OK" }, 400: err, 404: err },
      },
    },
    "/api/runs/{runId}/metrics": {
      get: {
        summary: "Every MoE layer's MaxVio, CV, normalized entropy, dead/hottest/coldest experts and EP imbalance at a step",
        description:
          "The router metrics use the counts before capacity dropping where ranks sent them (loadBasis: before-drop | no-drop | " +
          "dispatched-only); `dispatched` holds the same metrics after dropping where they differ; epImbalance is on received (post-drop) tokens.",
        parameters: [runId, step("Step (default: newest complete step)")],
        responses: { 200: { description: "OK" }, 400: err, 404: err },
      },
    },
    "/api/runs/{runId}/ep-load": {
      get: {
        summary: "Tokens received per EP rank in each ETP x EP dispatch group, one layer, one step",
        description:
          "received: after capacity dropping (what the EP rank's memory holds; every TP source counts, also without sequence parallelism). " +
          "demand: before dropping, null when no rank sent counts before dropping.",
        parameters: [runId, step("Step", true), { name: "layer", in: "query", required: true, schema: { type: "integer", minimum: 1 } }],
        responses: { 200: { description: "OK" }, 400: err, 404: err },
      },
    },
    "/api/runs/{runId}/capacity": {
      get: {
        summary: "Capacity what-if: predicted dropped assignments per MoE layer at a capacity factor (Megatron's get_capacity per source rank)",
        description: "Per layer the totals and perRank: each source rank's capacity C (and m x C over its micro-batches) and its drops.",
        parameters: [runId, { name: "cf", in: "query", required: true, schema: { type: "number", exclusiveMinimum: 0 } }, step("Step (default: newest complete step)")],
        responses: { 200: { description: "OK" }, 400: err, 404: err },
      },
    },
    "/api/runs/{runId}/advice": {
      get: {
        summary: "Computed mitigations: ETP/EP, capacity factor, recomputation, router levers, revert; each with flag changes against the launch line, a diff, rationale numbers, cost and validity",
        parameters: [runId, step("Step (default: newest complete step)")],
        responses: { 200: { description: "OK" }, 400: err, 404: err },
      },
    },
    "/api/runs/{runId}/export": {
      get: {
        summary: "Download the run: per-(step, layer) aggregates, or with raw=1 the per-rank counts, or in CSV with series=1 the named series (JSON always has them), as CSV or JSON",
        parameters: [
          runId,
          { name: "format", in: "query", schema: { type: "string", enum: ["csv", "json"], default: "csv" } },
          { name: "raw", in: "query", schema: { type: "string", enum: ["0", "1"] } },
          { name: "series", in: "query", schema: { type: "string", enum: ["0", "1"] } },
        ],
        responses: { 200: { description: "text/csv or application/json attachment" }, 404: err },
      },
    },
    "/api/runs/{runId}/scalars": {
      get: {
        summary: "Named series of the run (imported Megatron logs and TensorBoard files): layer 0 = run-level; downsampled with min/max",
        parameters: [runId, { name: "names", in: "query", schema: { type: "string" }, description: "Comma-separated series names" }, { name: "maxPoints", in: "query", schema: { type: "integer" } }],
        responses: { 200: { description: "OK" }, 404: err },
      },
    },
    "/api/runs/{runId}/postmortem/{eventId}": {
      get: {
        summary:
          "OOM post-mortem: the dying rank's EP rank and dispatch group, per-layer tokens received vs its group's mean over the last `window` steps, its and its group's memory, the alerts that overlapped, and a computed explanation",
        parameters: [
          runId,
          { name: "eventId", in: "path", required: true, schema: { type: "string" }, description: "An OOM event id (from /api/runs/{runId}/events)" },
          { name: "window", in: "query", schema: { type: "integer", minimum: 2, maximum: 500, default: 30 } },
        ],
        responses: { 200: { description: "OK" }, 400: err, 404: err },
      },
    },
    "/api/compare": {
      get: {
        summary: "Per-layer aux loss, MaxVio and EP imbalance of several runs (downsampled, min/max kept), x = step or cumulative tokens, and a config diff with a `differs` flag per argument",
        parameters: [
          { name: "runs", in: "query", required: true, schema: { type: "string" }, description: "Comma-separated run ids (1 to 8)" },
          { name: "layer", in: "query", schema: { type: "integer", minimum: 1 }, description: "One MoE layer (default: every MoE layer)" },
          { name: "alignBy", in: "query", schema: { type: "string", enum: ["step", "tokens"], default: "step" } },
          { name: "maxPoints", in: "query", schema: { type: "integer", minimum: 1, maximum: 5000, default: 300 } },
        ],
        responses: { 200: { description: "OK" }, 400: err },
      },
    },
    "/api/runs/{runId}/events": { get: { summary: "OOM, crash and finish events", parameters: [runId], responses: { 200: ok("RunEvent", true), 404: err } } },
    "/api/runs/{runId}/live": {
      get: {
        summary: "Server-Sent Events: `update` with a LiveUpdate whenever the run changes (checked every 250 ms)",
        parameters: [runId],
        responses: { 200: { description: "text/event-stream", content: { "text/event-stream": { schema: { $ref: "#/components/schemas/LiveUpdate" } } } }, 404: err },
      },
    },
    "/api/live": {
      get: { summary: "Server-Sent Events: `update` with {version} whenever any run changes", responses: { 200: { description: "text/event-stream" } } },
    },
    "/api/alerts": {
      get: {
        summary: "Alert episodes across runs, firing first",
        parameters: [
          { name: "status", in: "query", schema: { type: "string", enum: ["firing", "resolved", "all"], default: "all" } },
          { name: "runId", in: "query", schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 200 } },
        ],
        responses: { 200: ok("Alert", true), 400: err },
      },
    },
    "/api/alerts/{alertId}/deliveries": {
      get: { summary: "Webhook delivery log of one alert", parameters: [{ name: "alertId", in: "path", required: true, schema: { type: "string" } }], responses: { 200: { description: "OK" }, 404: err } },
    },
    "/api/runs/{runId}/alerts": { get: { summary: "The run's alert episodes", parameters: [runId], responses: { 200: ok("Alert", true), 404: err } } },
    "/api/alert-rules": {
      get: { summary: "Global alert rules: defaults, overrides, effective", responses: { 200: { description: "OK" } } },
      put: {
        summary: "Replace the global overrides (JSON object keyed by rule id, e.g. {\"ep-imbalance-high\": {\"threshold\": 1.8, \"forMs\": 5000}})",
        requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } },
        responses: { 200: { description: "OK" }, 400: err },
      },
    },
    "/api/runs/{runId}/alert-rules": {
      get: { summary: "The run's alert rules", parameters: [runId], responses: { 200: { description: "OK" }, 404: err } },
      put: { summary: "Replace the run's overrides", parameters: [runId], requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } }, responses: { 200: { description: "OK" }, 400: err, 404: err } },
    },
    "/api/config/check": {
      post: {
        summary: "Check a pasted Megatron launch line or argv array: configuration, derived sizes, MoE layers per stage, violated constraints",
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["commandLine"],
                properties: {
                  commandLine: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
                  worldSize: { type: "integer" },
                  gpusPerNode: { type: "integer" },
                },
              },
            },
          },
        },
        responses: { 200: { description: "OK" }, 400: err },
      },
    },
    "/metrics": { get: { summary: "Prometheus text format: moe_alert_firing, moe_run_ep_imbalance_worst, moe_layer_maxvio, moe_layer_ep_imbalance, moe_rank_peak_memory_ratio, moe_run_last_step", responses: { 200: { description: "text/plain" } } } },
    "/api/openapi.json": { get: { summary: "This document", responses: { 200: { description: "OK" } } } },
    "/api/auth/login": {
      post: {
        summary: "Sign in: sets the HttpOnly session cookie. One message for every failure (401); 429 with Retry-After after repeated failures",
        security: [],
        requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Credentials" } } } },
        responses: { 200: { description: "Signed in (Set-Cookie: moe_session)" }, 400: err, 401: err, 403: err, 429: err },
      },
    },
    "/api/auth/logout": { post: { summary: "Sign out: deletes the session, so the old cookie stops working", security: [], responses: { 200: { description: "OK" } } } },
    "/api/auth/me": { get: { summary: "Whether login is on, and who is signed in ({auth, user: {username, role} | null})", security: [], responses: { 200: { description: "OK" } } } },
    "/api/auth/setup": {
      get: { summary: "Whether the first admin still has to be created", security: [], responses: { 200: { description: "OK" } } },
      post: {
        summary: "Create the first admin with the setup code the server printed at start (only while there is no user); signs in",
        security: [],
        requestBody: {
          required: true,
          content: { "application/json": { schema: { allOf: [{ $ref: "#/components/schemas/Credentials" }, { type: "object", required: ["code"], properties: { code: { type: "string" } } }] } } },
        },
        responses: { 200: { description: "Created and signed in" }, 400: err, 403: err, 409: err, 429: err },
      },
    },
    "/api/admin/users": {
      get: { summary: "Dashboard users (admin)", responses: { 200: ok("User", true), 401: err, 403: err } },
      post: {
        summary: "Create a user (admin)",
        requestBody: {
          required: true,
          content: { "application/json": { schema: { allOf: [{ $ref: "#/components/schemas/Credentials" }, { type: "object", required: ["role"], properties: { role: { $ref: "#/components/schemas/Role" } } }] } } },
        },
        responses: { 201: ok("User"), 400: err, 401: err, 403: err, 409: err },
      },
    },
    "/api/admin/users/{username}": {
      patch: {
        summary: "Change a user's role, disable/enable them, or reset their password (ends their sessions) (admin); the last enabled admin cannot be demoted or disabled (409)",
        parameters: [{ name: "username", in: "path", required: true, schema: { type: "string" } }],
        requestBody: {
          required: true,
          content: { "application/json": { schema: { type: "object", properties: { role: { $ref: "#/components/schemas/Role" }, disabled: { type: "boolean" }, password: { type: "string" } } } } },
        },
        responses: { 200: ok("User"), 400: err, 401: err, 403: err, 404: err, 409: err },
      },
    },
    "/api/admin/tokens": {
      get: { summary: "Projects and ingest tokens, never the secrets (admin): {ingestAuth, projects, tokens}", responses: { 200: { description: "OK" }, 401: err, 403: err } },
      post: {
        summary: "Create an ingest token (and its project if new) (admin); the answer's `token` is the only time the secret is shown",
        requestBody: {
          required: true,
          content: { "application/json": { schema: { type: "object", required: ["projectName", "name"], properties: { projectName: { type: "string" }, name: { type: "string" } } } } },
        },
        responses: { 201: { description: "{token, info}" }, 400: err, 401: err, 403: err },
      },
    },
    "/api/admin/tokens/{tokenId}": {
      delete: {
        summary: "Revoke an ingest token (it stays listed as revoked) (admin)",
        parameters: [{ name: "tokenId", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: { description: "OK" }, 401: err, 403: err, 404: err },
      },
    },
  },
  components: {
    securitySchemes: {
      session: {
        type: "apiKey",
        in: "cookie",
        name: "moe_session",
        description:
          "Session cookie from POST /api/auth/login. Without it every route but /api/health and /api/auth/* answers 401. Roles: viewer reads; editor also " +
          "changes alert rules and imports; admin also manages users and ingest tokens (403 names the role needed). State-changing requests must come " +
          "from the dashboard's own origin (Origin / Sec-Fetch-Site), else 403. DASHBOARD_AUTH=off turns all of this off.",
      },
    },
    schemas: {
      Role: { type: "string", enum: ["viewer", "editor", "admin"] },
      Credentials: { type: "object", required: ["username", "password"], properties: { username: { type: "string" }, password: { type: "string", minLength: 10 } } },
      User: {
        type: "object",
        properties: { id: { type: "string" }, username: { type: "string" }, role: { $ref: "#/components/schemas/Role" }, disabled: { type: "boolean" }, createdAtMs: { type: "integer" } },
      },
      Error: { type: "object", required: ["error"], properties: { error: { type: "string" }, field: { type: "string" } } },
      Alert: {
        type: "object",
        properties: {
          id: { type: "string" }, runId: { type: "string" }, runName: { type: "string" }, ruleId: { type: "string" }, scope: { type: "string" },
          layer: { type: ["integer", "null"] }, rank: { type: ["integer", "null"] }, severity: { type: "string", enum: ["warning", "critical"] },
          status: { type: "string", enum: ["firing", "resolved"] }, threshold: { type: "number" }, value: { type: "number" }, step: { type: "integer" },
          peakValue: { type: "number" }, peakStep: { type: "integer" }, lastValue: { type: ["number", "null"] }, lastStep: { type: ["integer", "null"] },
          labels: { type: "object" }, message: { type: "string" },
          startedAt: { type: "string", format: "date-time" }, firedAt: { type: "string", format: "date-time" }, resolvedAt: { type: ["string", "null"], format: "date-time" },
        },
      },
      RunSummary: {
        type: "object",
        properties: {
          id: { type: "string" }, runKey: { type: "string" }, name: { type: "string" }, status, simulated: { type: "boolean" },
          lastStep: { type: ["integer", "null"] }, ranksReporting: { type: "integer" }, ranksKnown: { type: "integer" }, worldSize: { type: "integer" },
          numExperts: { type: "integer" }, topk: { type: "integer" }, numLayers: { type: "integer" },
          createdAt: { type: "string", format: "date-time" }, lastSeenAt: { type: ["string", "null"], format: "date-time" },
        },
      },
      RunDetail: {
        allOf: [
          { $ref: "#/components/schemas/RunSummary" },
          {
            type: "object",
            properties: {
              config: { type: "object", description: "RunConfig under Megatron's argument names", additionalProperties: true },
              commandLine: { type: "array", items: { type: "string" } },
              gpusPerNode: { type: "integer" }, gpuMemoryBytes: { type: "integer" }, framework: { type: "string" }, frameworkVersion: { type: "string" },
              layers: { type: "array", items: { type: "object", properties: { layer: { type: "integer" }, moe: { type: "boolean" }, stage: { type: "integer" } } } },
              moeLayers: { type: "array", items: { type: "integer" } },
              derived: { type: "object", properties: { dp: { type: "integer" }, edp: { type: "integer" }, etp: { type: "integer" } } },
              events: { type: "array", items: { $ref: "#/components/schemas/RunEvent" } },
            },
          },
        ],
      },
      RunEvent: {
        type: "object",
        properties: {
          id: { type: "string" }, kind: { type: "string", enum: ["oom", "crash", "finished"] }, rank: { type: "integer" }, step: { type: "integer" },
          layer: { type: ["integer", "null"] }, phase: { type: ["string", "null"] }, message: { type: "string" }, memory, createdAt: { type: "string", format: "date-time" },
        },
      },
      LossSeries: {
        type: "object",
        properties: {
          runId: { type: "string" }, fromStep: { type: ["integer", "null"] }, toStep: { type: ["integer", "null"] }, bucketSize: { type: "integer" },
          series: { type: "array", items: { type: "object", properties: { layer: { type: "integer" }, loss: lossName, points: { type: "array", items: point } } } },
        },
      },
      LayerHeatmap: {
        type: "object",
        properties: {
          runId: { type: "string" }, step: { type: ["integer", "null"] }, numExperts: { type: "integer" },
          rows: {
            type: "array",
            items: {
              type: "object",
              properties: {
                layer: { type: "integer" }, load: countsRouter, dispatchedLoad: countsDispatched, loadBasis,
                ranksReported: { type: "integer" }, ranksExpected: { type: "integer" },
              },
            },
          },
        },
      },
      ExpertHeatmap: {
        type: "object",
        properties: {
          runId: { type: "string" }, layer: { type: "integer" }, numExperts: { type: "integer" }, bucketSize: { type: "integer" },
          columns: { type: "array", items: { type: "object", properties: { step: { type: "integer" }, load: countsRouter } } },
        },
      },
      LayerAggregate: {
        type: "object",
        properties: {
          step: { type: "integer" }, layer: { type: "integer" }, ranksReported: { type: "integer" }, ranksExpected: { type: "integer" },
          tokens: { type: "integer" }, load: countsRouter, dispatchedLoad: countsDispatched, loadBasis, maxVio: { type: "number", description: "MaxVio of the router load" },
          losses: { type: "object", additionalProperties: { type: "number" } },
        },
      },
      LiveUpdate: {
        type: "object",
        properties: { runId: { type: "string" }, lastStep: { type: ["integer", "null"] }, status, ranksReporting: { type: "integer" }, events: { type: "integer" }, version: { type: "string" } },
      },
    },
  },
} as const;
