/**
 * `moe-telemetry check-config`: reads a Megatron launch script or command line (file or stdin) and
 * prints the configuration, derived sizes, MoE layers per stage and every constraint it breaks.
 * Exits 1 when a constraint is broken, so launch scripts can call it before `torchrun`.
 */
import fs from "node:fs";
import { checkMegatronConfig, type ConfigCheck } from "../lib/analysis/checkMegatronConfig";

/** formatConfigCheck renders a check for a terminal. */
export function formatConfigCheck(c: ConfigCheck): string {
  const lines: string[] = [];
  const cfg = c.config;
  lines.push(
    `model: ${cfg.num_layers} layers, ${cfg.num_experts} experts, top-${cfg.moe_router_topk}, moe_layer_freq ${cfg.moe_layer_freq ?? "1"}`,
    `world: ${c.worldSize ?? "unknown"} GPUs${c.gpusPerNode ? ` (${c.gpusPerNode} per node)` : ""}`,
  );
  if (c.sizes) {
    const s = c.sizes;
    lines.push(`attention mesh: TP ${s.tp} x CP ${s.cp} x DP ${s.dp} x PP ${s.pp}${s.vpp > 1 ? ` (VPP ${s.vpp})` : ""}`);
    const perRank = cfg.num_experts % s.ep === 0 ? `; ${cfg.num_experts / s.ep} expert(s) per EP rank` : "";
    lines.push(`expert mesh:    ETP ${s.etp} x EP ${s.ep} x EDP ${s.edp} x PP ${s.pp}${perRank}`);
  }
  const stages = new Map<number | null, number[]>();
  for (const l of c.layers) if (l.moe) stages.set(l.stage, [...(stages.get(l.stage) ?? []), l.layer]);
  for (const [stage, layers] of [...stages].sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1))) {
    lines.push(`MoE layers on stage ${stage ?? "?"}: ${layers.join(", ")}`);
  }
  const dense = c.layers.filter((l) => !l.moe).map((l) => l.layer);
  if (dense.length) lines.push(`dense layers: ${dense.join(", ")}`);
  if (c.unexpanded.length) lines.push(`not expanded (shell variables; Megatron defaults assumed): ${c.unexpanded.join(", ")}`);
  if (c.unknown.length) lines.push(`ignored tokens: ${c.unknown.join(" ")}`);
  if (c.violations.length === 0) lines.push("OK: the layout satisfies every constraint checked");
  for (const v of c.violations) lines.push(`${v.severity.toUpperCase()} [${v.rule}] ${v.message}`);
  return lines.join("\n");
}

/** runCheckConfig is the `check-config` command. */
export async function runCheckConfig(file: string | undefined, o: { worldSize?: number; gpusPerNode?: number; json?: boolean }): Promise<void> {
  let text: string;
  try {
    text = file && file !== "-" ? fs.readFileSync(file, "utf8") : fs.readFileSync(0, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file ?? "standard input"}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const c = checkMegatronConfig(text, { ...(o.worldSize ? { worldSize: o.worldSize } : {}), ...(o.gpusPerNode ? { gpusPerNode: o.gpusPerNode } : {}) });
  console.log(o.json ? JSON.stringify(c, null, 2) : formatConfigCheck(c));
  if (!c.ok) process.exitCode = 1;
}
