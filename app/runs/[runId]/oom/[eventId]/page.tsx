import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { cache } from "react";
import { SimulatedBadge } from "@/components/Badges";
import { PostMortemMemoryChart } from "@/components/PostMortemMemoryChart";
import { ReceivedVsShareCharts } from "@/components/ReceivedVsShareCharts";
import { getOomPostMortem } from "@/lib/web/data/postmortemQueries";
import { getRun } from "@/lib/web/data/queries";
import { formatBytes } from "@/lib/ui/formatBytes";
import { prepareGroupTable } from "@/lib/ui/prepareGroupTable";
import { preparePostMortemAlerts } from "@/lib/ui/preparePostMortemAlerts";
import { SEVERITY_STYLE } from "@/lib/ui/prepareAlerts";
import { formatExpertRange } from "@/lib/ui/formatExpertRange";

export const dynamic = "force-dynamic";

interface Props {
  params: Promise<{ runId: string; eventId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

const load = cache((runId: string, eventId: string, window: number | undefined) => getOomPostMortem(runId, eventId, window));

function windowParam(raw: string | string[] | undefined): number | undefined {
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (!v || !/^\d+$/.test(v)) return undefined;
  return Math.min(500, Math.max(2, Number(v)));
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { runId, eventId } = await params;
  const dto = await load(decodeURIComponent(runId), decodeURIComponent(eventId), undefined);
  return { title: dto ? `OOM rank ${dto.event.rank} · ${dto.runName}` : "Unknown OOM event" };
}

/** OomPostMortemPage: why a rank ran out of memory: the computed explanation, received vs share per layer, memory, its group and the alerts. */
export default async function OomPostMortemPage({ params, searchParams }: Props) {
  const { runId: rawRun, eventId: rawEvent } = await params;
  const runId = decodeURIComponent(rawRun);
  const window = windowParam((await searchParams).window);
  const [dto, run] = await Promise.all([load(runId, decodeURIComponent(rawEvent), window), getRun(runId)]);
  if (!dto || !run) notFound();
  const groupRows = prepareGroupTable(dto);
  const alerts = preparePostMortemAlerts(dto);
  const e = dto.event;
  const g = dto.rank.group;

  return (
    <div className="space-y-4" data-testid="postmortem-page" data-event-id={e.id}>
      <header className="space-y-2">
        <nav className="text-xs text-muted">
          <Link href="/" prefetch={false} className="hover:text-fg">
            Runs
          </Link>{" "}
          /{" "}
          <Link href={`/runs/${encodeURIComponent(runId)}`} prefetch={false} className="hover:text-fg" data-testid="postmortem-run-link">
            <span className="font-mono">{run.runKey}</span>
          </Link>{" "}
          / OOM post-mortem
        </nav>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-xl font-semibold">
            OOM of rank {e.rank} at step {e.step}
          </h1>
          {run.simulated && <SimulatedBadge />}
        </div>
        <dl className="flex flex-wrap gap-x-6 gap-y-1 text-xs">
          <Stat label="EP rank" value={dto.rank.epRank ?? "unknown"} />
          <Stat label="dispatch group" value={g ? `${g.index} (edp ${g.edp} · pp ${g.pp})` : "unknown"} />
          <Stat label="experts hosted" value={dto.rank.experts ? formatExpertRange(dto.rank.experts) : "–"} />
          <Stat label="EP · ETP · EDP" value={`${dto.sizes.ep} · ${dto.sizes.etp} · ${dto.sizes.edp}`} />
          <Stat label="phase · layer" value={`${e.phase ?? "–"} · ${e.layer ?? "–"}`} />
          <Stat label="memory at OOM" value={e.memory ? `${formatBytes(e.memory.peakAllocatedBytes)} peak / ${formatBytes(dto.gpuMemoryBytes)}` : "not sent"} />
          <Stat label="window" value={`steps ${dto.window.from}–${dto.window.to}`} />
        </dl>
      </header>

      <section className="rounded-lg border-2 border-danger/50 bg-danger-bg/40 px-4 py-3" data-testid="postmortem-explanation">
        <h2 className="mb-1 text-xs font-semibold uppercase tracking-wide text-danger">Why it died (computed)</h2>
        <p className="text-sm leading-relaxed" data-testid="postmortem-paragraph">
          {dto.explanation.text}
        </p>
        <p className="mt-2 text-[11px] text-muted">
          Share = the mean tokens received per EP rank of its ETP × EP dispatch group (each EP rank hosts {dto.sizes.expertsPerEpRank} of {dto.sizes.numExperts}{" "}
          experts). The CUDA message: <span className="font-mono [overflow-wrap:anywhere]">{e.message}</span>
        </p>
      </section>

      <ReceivedVsShareCharts dto={dto} />

      <div className="grid gap-4 xl:grid-cols-2">
        <PostMortemMemoryChart dto={dto} />

        <section className="min-w-0 rounded-lg border border-line bg-surface p-4" data-testid="group-table" data-rows={groupRows.length}>
          <h2 className="mb-1 text-sm font-semibold">Its dispatch group</h2>
          <p className="mb-2 text-xs text-muted">
            {dto.explanation.findings.worst
              ? `Received tokens at the dying rank's worst point (layer ${dto.explanation.findings.worst.layer}, step ${dto.explanation.findings.worst.step}); max and mean over the window's layer-steps.`
              : "No complete layer-step to compare in the window."}
          </p>
          {groupRows.length === 0 ? (
            <p className="py-4 text-center text-sm text-muted">The rank never reported its coordinates.</p>
          ) : (
            <div className="overflow-x-auto">
              <table className="w-full text-xs">
                <thead className="text-left text-muted">
                  <tr>
                    <th className="py-1 pr-2 font-medium">rank</th>
                    <th className="py-1 pr-2 font-medium">EP</th>
                    <th className="py-1 pr-2 font-medium">ETP</th>
                    <th className="py-1 pr-2 text-right font-medium">received</th>
                    <th className="py-1 pr-2 text-right font-medium">× share</th>
                    <th className="py-1 pr-2 text-right font-medium">max ×</th>
                    <th className="py-1 pr-2 text-right font-medium">mean ×</th>
                    <th className="py-1 pr-2 text-right font-medium">last peak</th>
                    <th className="py-1 text-right font-medium">max peak</th>
                  </tr>
                </thead>
                <tbody>
                  {groupRows.map((r) => (
                    <tr
                      key={r.rank}
                      data-testid="group-row"
                      data-rank={r.rank}
                      data-dying={r.dying}
                      className={`border-t border-line ${r.dying ? "bg-danger-bg/50 font-semibold" : ""}`}
                    >
                      <td className="py-1 pr-2 font-mono">
                        {r.rank}
                        {r.dying && <span className="ml-1 rounded bg-danger px-1 text-[10px] font-bold text-surface">OOM</span>}
                      </td>
                      <td className="py-1 pr-2 font-mono">{r.epRank}</td>
                      <td className="py-1 pr-2 font-mono">{r.etpRank}</td>
                      <td className="py-1 pr-2 text-right font-mono">{r.receivedAtWorst}</td>
                      <td className={`py-1 pr-2 text-right font-mono ${r.level === "danger" ? "text-danger" : r.level === "warn" ? "text-warn" : ""}`}>
                        {r.ratioAtWorst}
                        {r.busiest ? " ▲" : ""}
                      </td>
                      <td className="py-1 pr-2 text-right font-mono">{r.maxRatio}</td>
                      <td className="py-1 pr-2 text-right font-mono">{r.meanRatio}</td>
                      <td className="py-1 pr-2 text-right font-mono">{r.lastPeak}</td>
                      <td className="py-1 text-right font-mono">{r.maxPeak}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>

      <section className="rounded-lg border border-line bg-surface p-4" data-testid="postmortem-alerts" data-count={alerts.length}>
        <h2 className="mb-2 text-sm font-semibold">
          Alerts in the window <span className="font-normal text-muted">({alerts.length})</span>
        </h2>
        {alerts.length === 0 ? (
          <p className="text-xs text-muted">No alert of this run overlapped steps {dto.window.from}–{dto.window.to}.</p>
        ) : (
          <ul className="space-y-1 text-sm">
            {alerts.map((a) => (
              <li
                key={a.id}
                data-testid="postmortem-alert"
                data-rule={a.ruleId}
                data-relevant={a.relevant}
                className={`flex flex-wrap items-baseline gap-x-2 gap-y-0.5 rounded px-2 py-1 ${a.relevant ? "bg-surface-2" : "opacity-60"}`}
              >
                <span className={`rounded px-1.5 py-0.5 text-[10px] font-bold uppercase tracking-wide ${SEVERITY_STYLE[a.severity].badge}`}>{a.severity}</span>
                <code className="text-xs font-semibold">{a.ruleId}</code>
                <span className="text-xs font-medium">{a.where}</span>
                <span className="text-xs text-muted">{a.fired}</span>
                <span className={`text-xs ${a.firingAtOom ? "font-medium text-danger" : "text-muted"}`}>{a.state}</span>
                {!a.relevant && <span className="text-[11px] text-muted">(another stage&apos;s layer or rank)</span>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="flex items-baseline gap-1.5">
      <dt className="text-muted">{label}</dt>
      <dd className="font-mono font-medium">{value}</dd>
    </div>
  );
}
