import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RuleOverridesSchema } from "../../analysis/alerts/alertRules";
import { API_ROUTES, type ApiRoute } from "./apiRoutes";
import { OPENAPI_DOCUMENT } from "./openapi";

const ROOT = path.resolve(import.meta.dirname, "../../..");

/** Every route handler file under app/, as "METHOD /path" keys (Next's [param] folders as {param}). */
function routeFiles(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name === "route.ts") {
        const urlPath = rel.slice("app".length, -"/route.ts".length).replace(/\[(\w+)\]/g, "{$1}");
        const text = fs.readFileSync(path.join(ROOT, rel), "utf8");
        for (const [, method] of text.matchAll(/export (?:const|async function|function) (GET|POST|PUT|PATCH|DELETE)\b/g)) out.set(`${method} ${urlPath}`, rel);
      }
    }
  };
  walk("app");
  return out;
}

// Handlers that hand their parsing to a module, and the module that parses with the registry's schema.
const PARSED_IN: Record<string, string> = {
  "GET /api/runs/{runId}/heatmap/experts": "lib/web/http/expertHeatmapHttp.ts",
  "POST /api/auth/login": "lib/web/auth/login.ts",
  "POST /api/auth/setup": "lib/web/auth/login.ts",
};

const routes = API_ROUTES as Record<string, ApiRoute>;
const doc = OPENAPI_DOCUMENT as unknown as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>; requestBody?: unknown }>> };

describe("OpenAPI document generated from the route registry", () => {
  const files = routeFiles();

  it("has every route handler of the app, and no route that has no handler", () => {
    expect([...files.keys()].sort()).toEqual(Object.keys(routes).sort());
    for (const key of files.keys()) {
      const [method, urlPath] = key.split(" ");
      expect(doc.paths[urlPath]?.[method.toLowerCase()], key).toBeDefined();
    }
  });

  it.each(Object.entries(routes).filter(([, r]) => r.query || r.body))("%s is parsed with the registry's schemas", (key, route) => {
    if (route.body === RuleOverridesSchema) return; // parsed by the alert-rules store with this same schema object
    const file = PARSED_IN[key] ?? files.get(key);
    expect(file, key).toBeDefined();
    expect(fs.readFileSync(path.join(ROOT, file!), "utf8")).toContain(`apiRoute("${key}")`);
  });

  it("documents each route's query parameters as its schema parses them, and its path parameters", () => {
    for (const [key, route] of Object.entries(routes)) {
      const [method, urlPath] = key.split(" ");
      const op = doc.paths[urlPath][method.toLowerCase()];
      const query = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
      expect(query, key).toEqual(Object.keys(route.query?.shape ?? {}));
      const inPath = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
      expect(inPath, key).toEqual([...urlPath.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
      expect(Boolean(op.requestBody), key).toBe(Boolean(route.body));
    }
  });

  it.each([
    { key: "GET /api/runs/{runId}/losses", name: "maxPoints", required: false, schema: { type: "integer", minimum: 1, maximum: 5000 } },
    { key: "GET /api/runs/{runId}/losses", name: "layers", required: false, schema: { type: "string", pattern: "^\\d+(,\\d+)*$" } },
    { key: "GET /api/runs/{runId}/aggregates", name: "step", required: true, schema: { type: "integer", minimum: 0 } },
    { key: "GET /api/runs/{runId}/capacity", name: "cf", required: true, schema: { type: "number", exclusiveMinimum: 0, maximum: 64 } },
    { key: "GET /api/runs/{runId}/imbalance", name: "metric", required: false, schema: { type: "string", enum: ["maxVio", "cv", "entropy", "epImbalance"], default: "maxVio" } },
  ])("$key: $name as parsed", ({ key, name, required, schema }) => {
    const [method, urlPath] = key.split(" ");
    const p = doc.paths[urlPath][method.toLowerCase()].parameters!.find((x) => x.name === name)!;
    expect(p.required).toBe(required);
    expect(p.schema).toMatchObject(schema);
  });
});
