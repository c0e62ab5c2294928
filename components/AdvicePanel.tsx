import Link from "next/link";
import { prepareAdvice, type AdviceInput, type AdviceItem } from "@/lib/ui/prepareAdvice";
import { SEVERITY_STYLE, type AlertGroupItem } from "@/lib/ui/prepareAlerts";
import { SimulatedBadge } from "./Badges";
import { CopyButton } from "./CopyButton";

/**
 * AdvicePanel: the mitigation advisor's suggestions for the run at one step (getAdvice): flag changes,
 * the numbers behind each, validity for the run's mesh, the diff to paste, the memory model and notes,
 * next to the alerts firing now (one chip per rule, as the banner groups them).
 */
export function AdvicePanel({ advice, firing, updatingTo = null }: { advice: AdviceInput | null; firing: AlertGroupItem[]; updatingTo?: number | null }) {
  const m = advice ? prepareAdvice(advice) : null;
  // While the page's newer step is being advised, the previous advice stays but says it is behind.
  const behind = updatingTo !== null && m !== null && m.step !== updatingTo;
  return (
    <section
      id="advice"
      data-testid="advice-panel"
      data-count={m?.count ?? 0}
      data-step={m?.step ?? ""}
      data-updating={behind ? updatingTo : undefined}
      className={`scroll-mt-36 rounded-lg border border-line bg-surface p-4 ${behind ? "opacity-70" : ""}`}
    >
      <header className="mb-2 flex flex-wrap items-center gap-x-3 gap-y-1">
        <h2 className="text-sm font-semibold">
          Advice <span className="font-normal text-muted">at step {m?.step ?? "–"}</span>
        </h2>
        {behind && (
          <span className="animate-pulse text-xs text-muted" data-testid="advice-updating">
            updating to step {updatingTo}…
          </span>
        )}
        {m?.simulated && <SimulatedBadge />}
        <span className="text-xs text-muted">{m ? `${m.count} suggestion${m.count === 1 ? "" : "s"}, checked against Megatron's constraints for this run's layout` : "no advice"}</span>
      </header>
      {firing.length > 0 && (
        <div className="mb-3 flex flex-wrap items-center gap-1.5 text-xs" data-testid="advice-firing">
          <span className="text-muted">firing now:</span>
          {firing.map((g) => (
            <Link key={g.key} href={g.href} prefetch={false} data-testid="advice-firing-group" className={`rounded px-1.5 py-0.5 ${SEVERITY_STYLE[g.severity].badge} hover:underline`} title={g.headline}>
              {g.ruleId} · {g.extent}
            </Link>
          ))}
        </div>
      )}
      {m && (
        <div className="mb-3 space-y-1 text-xs" data-testid="advice-memory-model">
          <p>
            <span className="text-muted">Memory model: </span>
            {m.memoryModel ? (
              <span className={m.memoryModel.weak ? "text-warn" : ""}>
                {m.memoryModel.text}
                {m.memoryModel.weak && (
                  <span className="block font-medium" data-testid="advice-memory-off">
                    No predicted memory: {m.memoryModel.why}.
                  </span>
                )}
              </span>
            ) : (
              <span className="text-muted">none fitted (see the notes for why)</span>
            )}
          </p>
          {m.notes.length > 0 && (
            <ul className="list-disc space-y-0.5 pl-5 text-muted" data-testid="advice-notes">
              {m.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {m && m.count === 0 && <p className="py-2 text-sm text-muted">Nothing to change at this step.</p>}
      {m && m.groups.length > 0 && (
        <>
          <p className="mb-1.5 text-[11px] text-muted">The best suggestion of each kind; the others are listed below.</p>
          <div className="grid gap-3 lg:grid-cols-2 2xl:grid-cols-3">
            {m.groups.map((g) => (
              <SuggestionCard key={g.kind} s={g.items[0]} />
            ))}
          </div>
          {m.groups.some((g) => g.items.length > 1) && (
            <details className="mt-3" data-testid="advice-more">
              <summary className="cursor-pointer text-xs text-accent">
                {m.count - m.groups.length} more suggestion{m.count - m.groups.length === 1 ? "" : "s"} (
                {m.groups
                  .filter((g) => g.items.length > 1)
                  .map((g) => `${g.items.length - 1} ${g.label}`)
                  .join(", ")}
                )
              </summary>
              {m.groups
                .filter((g) => g.items.length > 1)
                .map((g) => (
                  <div key={g.kind} className="mt-3" data-testid="advice-group" data-kind={g.kind}>
                    <h3 className="mb-1.5 text-xs font-semibold uppercase tracking-wide text-muted">{g.label}</h3>
                    <div className="grid gap-3 lg:grid-cols-2 2xl:grid-cols-3">
                      {g.items.slice(1).map((s) => (
                        <SuggestionCard key={s.id} s={s} />
                      ))}
                    </div>
                  </div>
                ))}
            </details>
          )}
        </>
      )}
    </section>
  );
}

function SuggestionCard({ s }: { s: AdviceItem }) {
  return (
    <article data-testid="suggestion" data-id={s.id} data-kind={s.kind} data-valid={s.valid} className={`rounded-md border p-3 text-xs ${s.valid ? "border-line" : "border-danger/50"}`}>
      <header className="mb-1 flex flex-wrap items-center gap-2">
        <h4 className="text-sm font-semibold">{s.title}</h4>
        <span className="rounded bg-info-bg px-1.5 py-0.5 text-[10px] font-medium text-info">{s.kindLabel}</span>
        {s.valid ? (
          <span className="rounded bg-ok-bg px-1.5 py-0.5 text-[10px] font-medium text-ok">valid</span>
        ) : (
          <span className="rounded bg-danger-bg px-1.5 py-0.5 text-[10px] font-medium text-danger">invalid</span>
        )}
        <code className="ml-auto text-[10px] text-muted">{s.id}</code>
      </header>
      {s.violations.length > 0 && (
        <ul className="mb-1 space-y-0.5" data-testid="suggestion-violations">
          {s.violations.map((v) => (
            <li key={`${v.rule}:${v.message}`} className={v.severity === "error" ? "text-danger" : "text-warn"}>
              {v.severity}: {v.message} <span className="text-muted">({v.rule})</span>
            </li>
          ))}
        </ul>
      )}
      {s.keyNumbers.length > 0 && (
        <dl className="mb-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5" data-testid="suggestion-numbers">
          {s.keyNumbers.map((n) => (
            <div key={n.key} className="contents" data-key={n.key}>
              <dt className="text-muted">{n.label}</dt>
              <dd className="font-mono">{n.text}</dd>
            </div>
          ))}
        </dl>
      )}
      <p className="mb-1">{s.rationale}</p>
      <p className="mb-2 text-muted">
        <span className="font-medium">Cost: </span>
        {s.cost}
      </p>
      {s.changes.length > 0 && (
        <table className="mb-2 w-full font-mono text-[11px]" data-testid="suggestion-changes">
          <thead className="text-left text-muted">
            <tr>
              <th className="pr-2 font-medium">flag</th>
              <th className="pr-2 font-medium">from</th>
              <th className="font-medium">to</th>
            </tr>
          </thead>
          <tbody>
            {s.changes.map((c) => (
              <tr key={c.flag} className="border-t border-line">
                <td className="pr-2">{c.flag}</td>
                <td className="pr-2 text-muted">{c.from}</td>
                <td className="font-semibold">{c.to}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="relative">
        <div className="absolute top-1 right-1">
          <CopyButton text={s.diff} label="Copy diff" />
        </div>
        <pre className="max-h-40 overflow-auto rounded bg-surface-2 p-2 pr-20 font-mono text-[11px] leading-4" data-testid="suggestion-diff">
          {s.diff.split("\n").map((line, i) => (
            <span key={i} className={line.startsWith("+ ") ? "text-ok" : line.startsWith("- ") ? "text-danger" : "text-muted"}>
              {line}
              {"\n"}
            </span>
          ))}
        </pre>
      </div>
      {s.otherNumbers.length > 0 && (
        <details className="mt-1">
          <summary className="cursor-pointer text-[11px] text-muted">all numbers ({s.otherNumbers.length} more)</summary>
          <dl className="mt-1 grid grid-cols-[repeat(auto-fill,minmax(13rem,1fr))] gap-x-3 font-mono text-[11px]">
            {s.otherNumbers.map((n) => (
              <div key={n.key} className="flex justify-between gap-2">
                <dt className="text-muted">{n.label}</dt>
                <dd>{n.text}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </article>
  );
}
