// Derives prisma/postgres/schema.prisma from prisma/schema.prisma (the one source of the data model):
// same models, provider postgresql, its own generated client. Run by `npm run gen`; `--check` fails
// when the committed copy is out of date.
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const source = fs.readFileSync(path.join(root, "prisma/schema.prisma"), "utf8");
const header = "// GENERATED from ../schema.prisma by scripts/genPostgresSchema.mjs (npm run gen). Do not edit.\n";
const out =
  header +
  source
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace(/output\s*=\s*"\.\.\/generated\/prisma"/, 'output   = "../../generated/prisma-pg"');
if (out === header + source) throw new Error("genPostgresSchema: provider or output line not found in prisma/schema.prisma");
const target = path.join(root, "prisma/postgres/schema.prisma");
if (process.argv.includes("--check")) {
  if (!fs.existsSync(target) || fs.readFileSync(target, "utf8") !== out) {
    console.error("prisma/postgres/schema.prisma is out of date: run npm run gen");
    process.exit(1);
  }
} else {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, out);
}
