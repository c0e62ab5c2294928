import Link from "next/link";
import type { RunEventDto } from "@/lib/dto";
import { formatBytes } from "@/lib/ui/formatBytes";
import { postMortemHref } from "@/lib/ui/postMortemHref";

const KIND_STYLE: Record<RunEventDto["kind"], string> = {
  oom: "bg-danger-bg text-danger",
  crash: "bg-warn-bg text-warn",
  finished: "bg-ok-bg text-ok",
};

/** EventsList: the run's OOM, crash and finish events, newest first, with the memory sample sent with them; an OOM links to its post-mortem. */
export function EventsList({ events, runId }: { events: RunEventDto[]; runId?: string }) {
  const sorted = [...events].sort((a, b) => b.step - a.step || a.rank - b.rank);
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="events-list" data-count={events.length}>
      <h2 className="mb-2 text-sm font-semibold">
        Events <span className="font-normal text-muted">({events.length})</span>
      </h2>
      {sorted.length === 0 ? (
        <p className="text-xs text-muted">No OOM, crash or finish events.</p>
      ) : (
        <div className="max-h-80 overflow-auto">
          <table className="w-full text-xs">
            <thead className="sticky top-0 bg-surface text-left text-muted">
              <tr>
                <th className="py-1 pr-2 font-medium">kind</th>
                <th className="py-1 pr-2 font-medium">step</th>
                <th className="py-1 pr-2 font-medium">rank</th>
                <th className="py-1 pr-2 font-medium">layer</th>
                <th className="py-1 pr-2 font-medium">phase</th>
                <th className="py-1 pr-2 font-medium">memory (peak / reserved)</th>
                <th className="py-1 font-medium">message</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((e) => (
                <tr key={e.id} className="border-t border-line align-top" data-testid="event-row" data-kind={e.kind}>
                  <td className="py-1 pr-2">
                    <span className={`rounded px-1.5 py-0.5 font-semibold ${KIND_STYLE[e.kind]}`}>{e.kind === "oom" ? "OOM" : e.kind}</span>
                    {e.kind === "oom" && runId && (
                      <Link
                        href={postMortemHref(runId, e.id)}
                        prefetch={false}
                        className="ml-1.5 whitespace-nowrap font-medium text-accent hover:underline"
                        data-testid="postmortem-link"
                      >
                        post-mortem →
                      </Link>
                    )}
                  </td>
                  <td className="py-1 pr-2 font-mono">{e.step}</td>
                  <td className="py-1 pr-2 font-mono">{e.rank}</td>
                  <td className="py-1 pr-2 font-mono">{e.layer ?? "–"}</td>
                  <td className="py-1 pr-2">{e.phase ?? "–"}</td>
                  <td className="py-1 pr-2 font-mono whitespace-nowrap">
                    {e.memory ? `${formatBytes(e.memory.peakAllocatedBytes)} / ${formatBytes(e.memory.reservedBytes)}` : "–"}
                    {e.memory && e.memory.numAllocRetries > 0 ? ` · ${e.memory.numAllocRetries} retries` : ""}
                  </td>
                  <td className="py-1 text-muted [overflow-wrap:anywhere]">
                    {e.message.length <= 90 ? (
                      e.message
                    ) : (
                      <details>
                        <summary className="cursor-pointer">{e.message.slice(0, 90)}…</summary>
                        <p className="mt-1 whitespace-pre-wrap">{e.message}</p>
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
