/**
 * Command-line conventions shared by the benches: --shapes, --steps or a sample budget, and --smoke
 * (tiny sizes, seconds: CI runs it so the benches do not rot; it asserts nothing about speed).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { stepsForBudget, type Shape } from "./shapes";
import { printContext } from "./table";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** COMMON_OPTIONS: accepted by every bench. */
export const COMMON_OPTIONS = {
  smoke: { type: "boolean", default: false },
  shapes: { type: "string" },
  steps: { type: "string" },
  samples: { type: "string", default: "4000000" },
} as const satisfies Options;

/** benchArgs parses the common options plus a bench's own. */
export function benchArgs<T extends Options>(extra: T) {
  return parseArgs({ options: { ...COMMON_OPTIONS, ...extra }, strict: true }).values;
}

/** stepsFor: --steps if given; 3 in smoke mode; otherwise enough steps for about --samples counts. */
export function stepsFor(shape: Shape, args: { smoke?: boolean; steps?: string; samples?: string }): number {
  if (args.steps) return positive(args.steps, "--steps");
  if (args.smoke) return 3;
  return stepsForBudget(shape, positive(args.samples ?? "4000000", "--samples"));
}

function positive(s: string, name: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${s}"`);
  return n;
}

/** runBench prints the context line, runs the bench, and exits non-zero with the message on failure. */
export function runBench(name: string, body: () => Promise<void>): void {
  printContext(name);
  body().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
