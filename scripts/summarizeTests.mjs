// Prints one "N passed, N failed" line over every runner's report (vitest JSON, pytest JUnit XML,
// Playwright JSON), so CI logs show the whole suite's count.
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
const read = (f) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : null);

for (const f of ["unit.json", "integration.json", "integration-pg.json"]) {
  const text = read(f);
  if (!text) continue;
  const r = JSON.parse(text);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
const xml = read("python.xml");
if (xml) {
  const m = /<testsuite[^>]*\btests="(\d+)"[^>]*/.exec(xml);
  if (m) {
    const attr = (name) => Number((new RegExp(`\\b${name}="(\\d+)"`).exec(m[0]) ?? [0, 0])[1]);
    const total = attr("tests");
    const bad = attr("failures") + attr("errors");
    const skip = attr("skipped");
    passed += total - bad - skip;
    failed += bad;
    skipped += skip;
  }
}
const e2e = read("e2e.json");
if (e2e) {
  const s = JSON.parse(e2e).stats;
  passed += s.expected + s.flaky;
  failed += s.unexpected;
  skipped += s.skipped;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
