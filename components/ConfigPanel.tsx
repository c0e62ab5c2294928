import type { RunDetailDto } from "@/lib/dto";
import { formatBytes } from "@/lib/ui/formatBytes";
import { formatCommandLine } from "@/lib/ui/formatCommandLine";
import { configRows, type ConfigGroup } from "@/lib/analysis/configRows";

const ORDER: ConfigGroup[] = ["MoE", "Parallelism", "Model", "Precision & recompute", "Other"];

/** ConfigPanel lists the run's Megatron arguments under their own names, the derived sizes and the command line. */
export function ConfigPanel({ run }: { run: RunDetailDto }) {
  const rows = configRows(run.config);
  const cmd = formatCommandLine(run.commandLine);
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="config-panel">
      <h2 className="mb-3 text-sm font-semibold">Configuration</h2>
      <div className="mb-3 flex flex-wrap gap-2 text-xs" data-testid="derived-sizes">
        <Chip label="world" value={run.worldSize} />
        <Chip label="DP" value={run.derived.dp} title="world / (TP × PP × CP)" />
        <Chip label="EP" value={run.config.expert_model_parallel_size} />
        <Chip label="ETP" value={run.derived.etp} title="expert_tensor_parallel_size, defaults to TP" />
        <Chip label="EDP" value={run.derived.edp} title="world / (ETP × EP × PP)" />
        <Chip label="GPUs/node" value={run.gpusPerNode} />
        <Chip label="GPU memory" value={formatBytes(run.gpuMemoryBytes)} />
      </div>
      <div className="gap-x-6" style={{ columnWidth: "19rem" }}>
        {ORDER.map((group) => {
          const items = rows.filter((r) => r.group === group);
          if (items.length === 0) return null;
          return (
            <div key={group} className="mb-3 break-inside-avoid">
              <h3 className="mb-1 text-[11px] font-semibold uppercase tracking-wide text-muted">{group}</h3>
              <dl className="grid grid-cols-[minmax(0,1fr)_auto] text-xs">
                {items.map((r) => (
                  <div key={r.name} className="col-span-2 grid grid-cols-subgrid border-b border-line/60 py-0.5 last:border-0">
                    <dt className="pr-3 font-mono text-muted">
                      <BreakableName name={r.name} />
                    </dt>
                    <dd
                      className={`max-w-56 text-right font-mono [overflow-wrap:anywhere] ${r.defaulted ? "text-muted italic" : ""}`}
                      title={r.defaulted ? "not set by the run: Megatron's default" : undefined}
                    >
                      {r.value}
                      {r.defaulted ? " (default)" : ""}
                    </dd>
                  </div>
                ))}
              </dl>
            </div>
          );
        })}
      </div>
      {cmd && (
        <details className="mt-3" open={false}>
          <summary className="cursor-pointer text-xs font-medium text-muted hover:text-fg">Command line</summary>
          <pre className="mt-2 max-h-72 overflow-auto rounded bg-surface-2 p-3 font-mono text-[11px] leading-relaxed" data-testid="command-line">
            {cmd}
          </pre>
        </details>
      )}
    </section>
  );
}

/** BreakableName lets long Megatron argument names wrap after an underscore instead of being cut off. */
function BreakableName({ name }: { name: string }) {
  const parts = name.split("_");
  return (
    <>
      {parts.map((part, i) => (
        <span key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              _<wbr />
            </>
          )}
        </span>
      ))}
    </>
  );
}

function Chip({ label, value, title }: { label: string; value: string | number; title?: string }) {
  return (
    <span className="rounded border border-line bg-surface-2 px-2 py-0.5" title={title}>
      <span className="text-muted">{label}</span> <b className="font-mono">{value}</b>
    </span>
  );
}
