"use client";

import { useState } from "react";
import type { AlertRulesDto } from "@/lib/dto";
import { useCan } from "@/components/SessionContext";
import { buildRuleOverrides, draftsFromOverrides, prepareAlertRules, RULE_FIELDS, type RuleDrafts, type RuleField } from "@/lib/ui/prepareAlertRules";

/**
 * AlertRulesEditor: every alert rule with its shipped default, this scope's override (editable) and the
 * effective value, for the global scope (runId null) or one run. Saves with PUT (JSON) and shows the
 * API's validation error (400 {error, field}) as returned. Read-only (inputs disabled, no save) for a
 * viewer: changing rules needs the editor role, which the API enforces too.
 */
export function AlertRulesEditor({ runId, initial }: { runId: string | null; initial: AlertRulesDto }) {
  const [dto, setDto] = useState(initial);
  const [drafts, setDrafts] = useState<RuleDrafts>(() => draftsFromOverrides(initial.overrides));
  const [status, setStatus] = useState<{ kind: "idle" | "saving" | "saved" } | { kind: "error"; error: string; field: string | null }>({ kind: "idle" });
  const rows = prepareAlertRules(dto);
  const url = runId ? `/api/runs/${encodeURIComponent(runId)}/alert-rules` : "/api/alert-rules";
  const errorField = status.kind === "error" ? status.field : null;
  const { allowed: canEdit, session } = useCan("editor");

  const set = (id: string, field: RuleField, value: string) => {
    setDrafts((d) => ({ ...d, [id]: { ...(d[id as keyof RuleDrafts] ?? {}), [field]: value } }));
    if (status.kind !== "saving") setStatus({ kind: "idle" });
  };

  async function save() {
    setStatus({ kind: "saving" });
    try {
      const res = await fetch(url, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(buildRuleOverrides(drafts, dto.overrides)),
      });
      const body = (await res.json()) as AlertRulesDto | { error: string; field?: string };
      if (!res.ok || "error" in body) {
        const e = body as { error?: string; field?: string };
        setStatus({ kind: "error", error: e.error ?? `HTTP ${res.status}`, field: e.field ?? null });
        return;
      }
      setDto(body);
      setDrafts(draftsFromOverrides(body.overrides));
      setStatus({ kind: "saved" });
    } catch (err) {
      setStatus({ kind: "error", error: err instanceof Error ? err.message : String(err), field: null });
    }
  }

  const input = "w-full min-w-16 rounded border bg-bg px-1.5 py-0.5 font-mono text-[11px]";
  return (
    <div data-testid="alert-rules-editor" data-scope={runId ?? "global"} className="space-y-2">
      <p className="text-xs text-muted">
        {runId
          ? "Overrides for this run only, applied on top of the global overrides. Blank = inherit."
          : "Global overrides, applied to every run (a run's own overrides win). Blank = shipped default."}{" "}
        Each cell shows the override you can edit, the shipped default (placeholder) and the effective value below. The collector picks changes up within 5 s.
      </p>
      {!canEdit && (
        <p className="rounded border border-line bg-surface-2 px-2 py-1 text-xs text-muted" data-testid="rules-read-only">
          Read-only: changing alert rules needs the editor role{session ? ` (${session.username} is ${session.role})` : ""}.
        </p>
      )}
      <div className="overflow-x-auto">
        <table className="w-full text-xs">
          <thead className="border-b border-line text-left text-muted">
            <tr>
              <th className="py-1 pr-2 font-medium">Rule</th>
              {RULE_FIELDS.map((f) => (
                <th key={f.field} className="py-1 pr-2 font-medium whitespace-nowrap">
                  {f.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid="rule-row" data-rule={r.id} className="border-b border-line align-top last:border-0">
                <td className="py-1.5 pr-2">
                  <code className={`font-semibold ${r.overridden ? "text-accent" : ""}`}>{r.id}</code>
                  <div className="max-w-64 text-[10px] text-muted">{r.summary}</div>
                </td>
                {r.cells.map((c) => {
                  const spec = RULE_FIELDS.find((f) => f.field === c.field)!;
                  const value = drafts[r.id]?.[c.field] ?? "";
                  const bad = errorField === `${r.id}.${c.field}`;
                  const border = bad ? "border-danger ring-1 ring-danger" : "border-line";
                  return (
                    <td key={c.field} className="py-1.5 pr-2">
                      {spec.kind === "bool" || spec.kind === "enum" ? (
                        <select
                          aria-label={`${r.id} ${spec.label}`}
                          data-testid={`rule-${r.id}-${c.field}`}
                          value={value}
                          onChange={(e) => set(r.id, c.field, e.target.value)}
                          disabled={!canEdit}
                          className={`${input} ${border} disabled:opacity-60`}
                        >
                          <option value="">default ({c.defaultText})</option>
                          {(spec.kind === "bool" ? ["true", "false"] : spec.options ?? []).map((o) => (
                            <option key={o} value={o}>
                              {o}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <input
                          aria-label={`${r.id} ${spec.label}`}
                          data-testid={`rule-${r.id}-${c.field}`}
                          value={value}
                          placeholder={c.defaultText.replace(/ \(.*\)$/, "")}
                          onChange={(e) => set(r.id, c.field, e.target.value)}
                          disabled={!canEdit}
                          className={`${input} ${border} disabled:opacity-60`}
                        />
                      )}
                      <div className={`mt-0.5 text-[10px] ${c.changed ? "font-semibold text-accent" : "text-muted"}`} title={`default ${c.defaultText}`}>
                        = {c.effectiveText}
                      </div>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {canEdit && (
      <div className="flex flex-wrap items-center gap-3">
        <button
          type="button"
          onClick={() => void save()}
          disabled={status.kind === "saving"}
          data-testid="rules-save"
          className="rounded border border-line bg-fg px-3 py-1 text-xs font-medium text-bg hover:opacity-90 disabled:opacity-50"
        >
          {status.kind === "saving" ? "Saving…" : runId ? "Save run overrides" : "Save global overrides"}
        </button>
        <button
          type="button"
          onClick={() => setDrafts(draftsFromOverrides(dto.overrides))}
          className="rounded border border-line px-3 py-1 text-xs hover:bg-surface-2"
        >
          Discard edits
        </button>
        {status.kind === "saved" && (
          <span className="text-xs text-ok" data-testid="rules-saved">
            Saved.
          </span>
        )}
        {status.kind === "error" && (
          <span role="alert" className="rounded border border-danger/40 bg-danger-bg px-2 py-1 text-xs text-danger" data-testid="rules-error">
            {status.error}
            {status.field ? <span className="text-muted"> (field {status.field})</span> : null}
          </span>
        )}
      </div>
      )}
    </div>
  );
}
