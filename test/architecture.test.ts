/**
 * The architecture rules (.dependency-cruiser.cjs, run by `npm run lint`) checked against a small made-up
 * tree with one wrong import per rule: each rule must fire on its own wrong import and on nothing else, and
 * the allowed imports beside them must pass. A rule that stops matching (a renamed folder, a typo in a
 * path pattern) fails here instead of silently allowing everything.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");

/** The made-up tree: file -> content. Comments say which rule each wrong import breaks. */
const TREE: Record<string, string> = {
  "tsconfig.json": JSON.stringify({ compilerOptions: { module: "esnext", moduleResolution: "bundler", jsx: "react-jsx", allowImportingTsExtensions: true } }),
  // analysis-is-pure: the file system and the store.
  "lib/analysis/metric.ts": `import fs from "node:fs";\nimport { open } from "../store/db";\nimport { helper } from "./helper";\nexport const m = [fs, open, helper];\n`,
  "lib/analysis/helper.ts": `export const helper = 1;\n`,
  // store-below-processes.
  "lib/store/db.ts": `import { query } from "../web/data/query";\nexport const open = query;\n`,
  // web-not-collector, and (with collector/engine.ts) a cycle.
  "lib/web/data/query.ts": `import { engine } from "../../../collector/engine";\nexport const query = engine;\n`,
  // collector-not-web.
  "collector/engine.ts": `import { query } from "../lib/web/data/query";\nexport const engine = () => query;\n`,
  // wire-below-processes.
  "lib/wire/mapping.ts": `import { open } from "../store/db";\nexport const mapping = open;\n`,
  // runtime-below-processes.
  "lib/runtime/env.ts": `import { query } from "../web/data/query";\nexport const env = query;\n`,
  // data-access-below-views.
  "lib/web/data/compare.ts": `import { prepare } from "../../ui/prepare";\nexport const compare = prepare;\n`,
  // ui-helpers-are-views.
  "lib/ui/prepare.ts": `import { open } from "../store/db";\nimport { helper } from "../analysis/helper";\nexport const prepare = [open, helper];\n`,
  // clients-and-tools-not-servers.
  "lib/client/client.ts": `import { query } from "../web/data/query";\nimport { mapping } from "../wire/mapping";\nexport const client = [query, mapping];\n`,
  // client-components-only-dtos-and-ui: a "use client" component reaching the store.
  "components/Widget.tsx": `"use client";\nimport { open } from "../lib/store/db";\nimport { prepare } from "../lib/ui/prepare";\nexport const Widget = () => [open, prepare];\n`,
  // A server component may read data: allowed.
  "components/ServerPanel.tsx": `import { query } from "../lib/web/data/query";\nexport const ServerPanel = () => query;\n`,
};

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

describe("architecture rules (.dependency-cruiser.cjs)", () => {
  let dir: string;
  let violations: Violation[];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-arch-"));
    for (const [file, text] of Object.entries(TREE)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    let out: string;
    try {
      out = execFileSync(
        process.execPath,
        [path.join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs"), "lib", "collector", "components", "--config", path.join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "json"],
        { cwd: dir, env: { ...process.env, DEPCRUISE_ROOT: dir }, encoding: "utf8", maxBuffer: 64 << 20 },
      );
    } catch (err) {
      // depcruise exits non-zero when it finds violations; its report is still on stdout.
      out = (err as { stdout: string }).stdout;
    }
    violations = (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const found = (rule: string) =>
    violations
      .filter((v) => v.rule.name === rule)
      .map((v) => `${v.from} -> ${v.to}`)
      .sort();

  it.each([
    ["analysis-is-pure", ["lib/analysis/metric.ts -> fs", "lib/analysis/metric.ts -> lib/store/db.ts"]],
    ["store-below-processes", ["lib/store/db.ts -> lib/web/data/query.ts"]],
    ["web-not-collector", ["lib/web/data/query.ts -> collector/engine.ts"]],
    ["collector-not-web", ["collector/engine.ts -> lib/web/data/query.ts"]],
    ["wire-below-processes", ["lib/wire/mapping.ts -> lib/store/db.ts"]],
    ["runtime-below-processes", ["lib/runtime/env.ts -> lib/web/data/query.ts"]],
    ["data-access-below-views", ["lib/web/data/compare.ts -> lib/ui/prepare.ts"]],
    ["ui-helpers-are-views", ["lib/ui/prepare.ts -> lib/store/db.ts"]],
    ["clients-and-tools-not-servers", ["lib/client/client.ts -> lib/web/data/query.ts"]],
    ["client-components-only-dtos-and-ui", ["components/Widget.tsx -> lib/store/db.ts"]],
  ])("%s fires on its wrong import only", (rule, expected) => {
    expect(found(rule)).toEqual(expected);
  });

  it("finds the import cycle", () => {
    expect(found("no-circular").length).toBeGreaterThan(0);
    expect(violations.filter((v) => v.rule.name === "no-circular").every((v) => /collector\/engine|lib\/web\/data\/query/.test(v.from))).toBe(true);
  });

  it("lets the allowed imports through", () => {
    const allowed = ["components/ServerPanel.tsx", "lib/analysis/helper.ts"];
    expect(violations.filter((v) => allowed.includes(v.from) || v.to === "lib/analysis/helper.ts" || (v.to === "lib/ui/prepare.ts" && v.from !== "lib/web/data/compare.ts"))).toEqual([]);
  });
});
