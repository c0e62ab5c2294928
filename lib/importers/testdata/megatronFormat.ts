/**
 * Test helpers that build Megatron log lines the way Megatron's Python format strings do
 * (megatron/training/training.py training_log; training/utils report_memory; arguments.py _print_args).
 */

/** pyE: Python's '{:.6E}' (two-digit exponent minimum, upper case; inf/nan print as INF/NAN). */
export function pyE(v: number, digits = 6): string {
  if (Number.isNaN(v)) return "NAN";
  if (!Number.isFinite(v)) return v > 0 ? "INF" : "-INF";
  const [mant, exp] = v.toExponential(digits).split("e");
  const sign = exp.startsWith("-") ? "-" : "+";
  return `${mant}E${sign}${exp.replace(/^[+-]/, "").padStart(2, "0")}`;
}

/** pyD: Python's '{:Nd}' (right-aligned in a field of width N). */
export function pyD(v: number, width: number): string {
  return String(v).padStart(width);
}

/** IterationLineSpec: the inputs of training_log's stdout line. */
export interface IterationLineSpec {
  timestamp?: string | null;
  iteration: number;
  trainIters?: number;
  consumedSamples?: number;
  iterationMs?: number;
  throughput?: number;
  learningRate?: number;
  batchSize?: number;
  /** Loss keys in total_loss_dict order, printed with {:.6E}. */
  losses?: Array<[string, number]>;
  /** MoE console scalars (non-loss), printed with {:.2f}. */
  moeScalars?: Array<[string, number]>;
  lossScale?: number;
  gradNorm?: number;
  skipped?: number;
  nan?: number;
  /** Width of the skipped/nan count fields ({:3d} upstream). */
  countWidth?: number;
}

/** iterationLine: one ` [ts] iteration ... |` line as training_log prints it. */
export function iterationLine(s: IterationLineSpec): string {
  let out = s.timestamp === null || s.timestamp === undefined ? "" : ` [${s.timestamp}]`;
  out += ` iteration ${pyD(s.iteration, 8)}/${pyD(s.trainIters ?? 1000, 8)} |`;
  out += ` consumed samples: ${pyD(s.consumedSamples ?? s.iteration * 64, 12)} |`;
  out += ` elapsed time per iteration (ms): ${(s.iterationMs ?? 500).toFixed(1)} |`;
  if (s.throughput !== undefined) out += ` throughput per GPU (TFLOP/s/GPU): ${s.throughput.toFixed(1)} |`;
  out += ` learning rate: ${pyE(s.learningRate ?? 1e-4)} |`;
  out += ` global batch size: ${pyD(s.batchSize ?? 64, 5)} |`;
  for (const [k, v] of s.losses ?? [["lm loss", 5]]) out += ` ${k}: ${pyE(v)} |`;
  for (const [k, v] of s.moeScalars ?? []) out += ` ${k}: ${v.toFixed(2)} |`;
  out += ` loss scale: ${(s.lossScale ?? 1).toFixed(1)} |`;
  if (s.gradNorm !== undefined) out += ` grad norm: ${Number.isFinite(s.gradNorm) ? s.gradNorm.toFixed(3) : "nan"} |`;
  const w = s.countWidth ?? 3;
  out += ` number of skipped iterations: ${pyD(s.skipped ?? 0, w)} |`;
  out += ` number of nan iterations: ${pyD(s.nan ?? 0, w)} |`;
  return out;
}

/** memoryLine: report_memory's line; `raw` prints Python's default float repr (pre-2026), else .2f. */
export function memoryLine(
  rank: number,
  label: string,
  mb: { allocated: number; maxAllocated: number; reserved: number; maxReserved: number; total?: number },
  raw = false,
): string {
  // Python's repr of a float keeps ".0" on whole numbers (37658.0), JavaScript's String() does not.
  const f = (v: number): string => (raw ? (Number.isInteger(v) ? v.toFixed(1) : String(v)) : v.toFixed(2));
  let s = `${label} memory (MB) | allocated: ${f(mb.allocated)} | max allocated: ${f(mb.maxAllocated)}`;
  s += ` | reserved: ${f(mb.reserved)} | max reserved: ${f(mb.maxReserved)}`;
  if (mb.total !== undefined) s += ` | total device memory used: ${f(mb.total)}`;
  return `[Rank ${rank}] ${s}`;
}

/** argumentsBlock: _print_args("arguments", args) with `'.' * (width - len(arg))` dots, sorted case-insensitively. */
export function argumentsBlock(args: Record<string, string>, width = 48): string[] {
  const lines = Object.entries(args)
    .map(([k, v]) => `  ${k} ${".".repeat(Math.max(0, width - k.length))} ${v}`)
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return [
    "------------------------ arguments ------------------------",
    ...lines,
    "-------------------- end of arguments ---------------------",
  ];
}
