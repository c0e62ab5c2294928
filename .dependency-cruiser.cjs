/**
 * The architecture's one-page map, checked by `npm run lint` (dependency-cruiser).
 *
 *   app/, components/ (the dashboard)      cli/ (the moe-telemetry command: entry points)
 *          │                                  │ may use every layer below
 *          ▼                                  ▼
 *   lib/web/ (data/ queries, http/ server, auth/)     collector/ (gRPC server, admission, auth,
 *          │                                                       buffer, alert engine, notifier)
 *          ▼                                              │
 *   lib/store/ (database, migrations, repositories, ingest writers, row mappers, count codec)
 *          │                                              ▼
 *          ▼                                     lib/wire/ (proto mapping, batch validation, limits, PEM)
 *   lib/analysis/ (pure: MoE math and Megatron semantics; imports only zod and itself)
 *
 * Side folders: lib/ui (view preparation for components), lib/dto.ts (what pages hand to client
 * components), lib/client (the TypeScript client), lib/sim (the simulator), lib/importers (log and
 * TensorBoard readers), lib/runtime (environment and logging). Each rule below names what it forbids and why;
 * test/architecture.test.ts shows every rule failing on a deliberately wrong import.
 */
const fs = require("node:fs");
const path = require("node:path");

/** Files that start with the "use client" directive: they run in the browser. */
function clientComponents(root) {
  const out = [];
  const walk = (dir) => {
    if (!fs.existsSync(path.join(root, dir))) return;
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.tsx?$/.test(e.name) && /^\s*(["'])use client\1/.test(fs.readFileSync(path.join(root, rel), "utf8"))) out.push(rel);
    }
  };
  walk("app");
  walk("components");
  return out;
}

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const client = clientComponents(process.env.DEPCRUISE_ROOT ?? process.cwd());
const notTests = "\\.test\\.tsx?$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle: modules that cannot be understood, tested or loaded one without the other.",
      from: {},
      to: { circular: true },
    },
    {
      name: "analysis-is-pure",
      severity: "error",
      comment: "lib/analysis is the pure core: no database, network, file system, clock source or framework; only zod and itself.",
      from: { path: "^lib/analysis/", pathNot: notTests },
      to: { pathNot: ["^lib/analysis/", "^node_modules/zod/"] },
    },
    {
      name: "wire-below-processes",
      severity: "error",
      comment: "lib/wire (proto mapping, validation, limits) is shared by clients and the collector: it uses only the core, the generated types and gRPC.",
      from: { path: "^lib/wire/" },
      to: { path: "^(lib/(store|web|ui|client|sim|importers|runtime)|collector|app|components|cli)/" },
    },
    {
      name: "store-below-processes",
      severity: "error",
      comment: "lib/store is shared by the collector and the dashboard: it imports neither of them (nor the UI).",
      from: { path: "^lib/store/" },
      to: { path: "^(lib/(web|ui|client|sim|importers)|collector|app|components|cli)/" },
    },
    {
      name: "web-not-collector",
      severity: "error",
      comment: "The dashboard's process never loads the collector's pipeline.",
      from: { path: "^(lib/web|app|components)/" },
      to: { path: "^collector/" },
    },
    {
      name: "collector-not-web",
      severity: "error",
      comment: "The collector's process never loads the dashboard's data access, HTTP or UI.",
      from: { path: "^collector/" },
      to: { path: "^(lib/(web|ui)|app|components)/" },
    },
    {
      name: "runtime-below-processes",
      severity: "error",
      comment: "lib/runtime (environment, logging, retry policy, error ids) is loaded by every process: it imports none of them.",
      from: { path: "^lib/runtime/" },
      to: { path: "^(lib/(web|ui|client|sim|importers)|collector|app|components|cli)/" },
    },
    {
      name: "data-access-below-views",
      severity: "error",
      comment: "lib/web/data returns DTOs; formatting them for a view is lib/ui's job, after the data layer, never inside it.",
      from: { path: "^lib/web/data/" },
      to: { path: "^(lib/ui|components|app)/" },
    },
    {
      name: "ui-helpers-are-views",
      severity: "error",
      comment: "lib/ui prepares views from DTOs and the core; it reads no database and speaks no protocol.",
      from: { path: "^lib/ui/" },
      to: { path: "^(lib/(store|web|wire|client|sim|importers|runtime)|collector|app|components|cli)/" },
    },
    {
      name: "clients-and-tools-not-servers",
      severity: "error",
      comment: "The TypeScript client, the simulator and the importers run beside training jobs: no server code.",
      from: { path: "^lib/(client|sim|importers)/" },
      to: { path: "^(lib/(store|web|ui)|collector|app|components)/" },
    },
    {
      name: "client-components-only-dtos-and-ui",
      severity: "error",
      comment: 'A "use client" component runs in the browser: it imports DTOs (lib/dto), UI helpers (lib/ui), other components and packages, never server modules.',
      from: { path: client.length ? `^(${client.map(escapeRegex).join("|")})$` : "^$" },
      to: { path: "^(lib/(store|web|wire|client|sim|importers|runtime|analysis)|collector|cli)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(generated|node_modules|\\.next|clients|data|test-results)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
