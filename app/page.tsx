import Link from "next/link";
import { SimulatedBadge, StatusBadge } from "@/components/Badges";
import { LiveRunsRefresher } from "@/components/LiveRunsRefresher";
import { listRuns } from "@/lib/web/data/queries";
import { formatRelativeTime } from "@/lib/ui/formatRelativeTime";

export const dynamic = "force-dynamic";

/** RunsPage: every run, newest first, re-rendered live when any run changes. */
export default async function RunsPage() {
  const runs = await listRuns();
  const now = Date.now();
  return (
    <div className="space-y-4">
      <div className="flex items-center gap-4">
        <h1 className="text-lg font-semibold">Runs</h1>
        <span className="text-xs text-muted" data-testid="runs-count">
          {runs.length} run{runs.length === 1 ? "" : "s"}
        </span>
        {runs.length >= 2 && (
          <Link href="/compare" prefetch={false} className="text-xs font-medium text-accent hover:underline" data-testid="compare-link">
            compare runs →
          </Link>
        )}
        <span className="ml-auto">
          <LiveRunsRefresher />
        </span>
      </div>
      {runs.length === 0 ? (
        <EmptyState />
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line bg-surface">
          <table className="w-full text-sm" data-testid="runs-table">
            <thead className="border-b border-line bg-surface-2 text-left text-xs text-muted">
              <tr>
                <th className="px-3 py-2 font-medium">Run</th>
                <th className="px-3 py-2 font-medium">Status</th>
                <th className="px-3 py-2 text-right font-medium">Last step</th>
                <th className="px-3 py-2 text-right font-medium" title="ranks that sent data in the last 30 s / ranks that said hello, of world size">
                  Ranks reporting
                </th>
                <th className="px-3 py-2 text-right font-medium">Experts · top-k · layers</th>
                <th className="px-3 py-2 text-right font-medium">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} className="border-b border-line last:border-0 hover:bg-surface-2" data-testid="run-row" data-run-key={r.runKey}>
                  <td className="px-3 py-2">
                    <div className="flex items-center gap-2">
                      <Link
                        href={`/runs/${encodeURIComponent(r.id)}`}
                        // Live refreshes re-prefetch visible links; a run page render is not cheap, so fetch on click.
                        prefetch={false}
                        className="font-medium text-accent hover:underline">
                        {r.name}
                      </Link>
                      {r.simulated && <SimulatedBadge />}
                    </div>
                    <div className="font-mono text-[11px] text-muted">{r.runKey}</div>
                  </td>
                  <td className="px-3 py-2">
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="px-3 py-2 text-right font-mono">{r.lastStep ?? "–"}</td>
                  <td className="px-3 py-2 text-right font-mono">
                    <span className={r.ranksReporting < r.ranksKnown && r.status === "running" ? "text-warn" : ""}>
                      {r.ranksReporting}/{r.ranksKnown}
                    </span>
                    <span className="text-muted"> of {r.worldSize}</span>
                  </td>
                  <td className="px-3 py-2 text-right font-mono">
                    {r.numExperts} · {r.topk} · {r.numLayers}
                  </td>
                  <td className="px-3 py-2 text-right text-xs text-muted" title={r.lastSeenAt ?? undefined}>
                    {formatRelativeTime(r.lastSeenAt, now)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function EmptyState() {
  return (
    <div className="rounded-lg border border-dashed border-line bg-surface p-8" data-testid="runs-empty">
      <h2 className="mb-2 text-base font-semibold">No runs yet</h2>
      <p className="mb-4 max-w-2xl text-sm text-muted">
        Runs appear here as soon as their ranks register with the collector. This page updates by itself.
      </p>
      <div className="grid gap-6 md:grid-cols-2">
        <div>
          <h3 className="mb-1 text-sm font-medium">Try it with a simulated run</h3>
          <p className="mb-2 text-xs text-muted">
            The simulator plays a Megatron-Core MoE run (router imbalance early in training, aux and z losses, memory) and is
            marked <SimulatedBadge /> everywhere.
          </p>
          <pre className="overflow-x-auto rounded bg-surface-2 p-3 font-mono text-xs">npx moe-telemetry simulate --collector 127.0.0.1:50051</pre>
        </div>
        <div>
          <h3 className="mb-1 text-sm font-medium">Point real training ranks at the collector</h3>
          <p className="mb-2 text-xs text-muted">
            Every rank streams its router telemetry over gRPC to the collector (default port 50051). Give each rank the
            collector&apos;s address, for example through the environment of your launcher:
          </p>
          <pre className="overflow-x-auto rounded bg-surface-2 p-3 font-mono text-xs">
            {`export MOE_TELEMETRY_COLLECTOR=<collector-host>:50051\ntorchrun ... pretrain_gpt.py --num-experts 64 --moe-router-topk 8 ...`}
          </pre>
          <p className="mt-2 text-xs text-muted">
            The rank client registers the run with its Megatron arguments, says hello with its rank coordinates (tp, cp, dp, pp,
            ep, etp, edp) and sends per-layer token counts and router losses each step.
          </p>
        </div>
      </div>
    </div>
  );
}
