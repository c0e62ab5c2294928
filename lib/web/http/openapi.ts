/**
 * The OpenAPI 3.1 description of the dashboard's HTTP API, served at /api/openapi.json. The paths, their
 * parameters and request bodies are generated from the route registry (apiRoutes.ts), whose zod schemas the
 * handlers parse with (zod's JSON Schema output); the response shapes are described in `components`.
 */
import { z } from "zod";
import { API_ROUTES, RUN_ID_DOC, type ApiRoute, type ResponseRef } from "./apiRoutes";

const err = { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };

type JsonSchema = Record<string, unknown>;

// Pieces of the response schemas in `components`.
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


/** inputSchema is what a client sends for `schema`: defaults make a field optional, transforms show their input. */
function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

function queryParameters(query: z.ZodObject): JsonSchema[] {
  const json = inputSchema(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: "query", required: json.required?.includes(name) ?? false, schema: rest, ...(description ? { description } : {}) };
  });
}

function pathParameters(path: string, route: ApiRoute): JsonSchema[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
    description: name === "runId" ? RUN_ID_DOC : (route.pathParams?.[name] ?? name),
  }));
}

function response(ok: ResponseRef): JsonSchema {
  if (!("schema" in ok)) return { description: ok.description };
  const ref = { $ref: `#/components/schemas/${ok.schema}` };
  return {
    description: ok.description ?? "OK",
    content: { [ok.contentType ?? "application/json"]: { schema: ok.array ? { type: "array", items: ref } : ref } },
  };
}

function operation(path: string, route: ApiRoute): JsonSchema {
  const parameters = [...pathParameters(path, route), ...(route.query ? queryParameters(route.query) : [])];
  return {
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.public ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: inputSchema(route.body) } } } } : {}),
    responses: {
      [route.okStatus ?? 200]: response(route.ok),
      ...Object.fromEntries((route.errors ?? []).map((code) => [code, err])),
    },
  };
}

/** openApiPaths builds the `paths` object from the route registry. */
export function openApiPaths(routes: Record<string, ApiRoute> = API_ROUTES): Record<string, Record<string, JsonSchema>> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [key, route] of Object.entries(routes)) {
    const [method, path] = key.split(" ");
    (paths[path] ??= {})[method.toLowerCase()] = operation(path, route);
  }
  return paths;
}

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
  paths: openApiPaths(),
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
