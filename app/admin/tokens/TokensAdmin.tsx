"use client";

import { useState } from "react";
import { apiCall as call, errorText } from "@/lib/ui/apiCall";
import { CopyButton } from "@/components/CopyButton";
import type { IngestTokenInfo, ProjectInfo } from "@/lib/dto";

function when(ms: number | null): string {
  return ms === null ? "—" : new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** TokensAdmin: create a token (its secret shown once, with a copy button and a usage snippet), list and revoke. */
export function TokensAdmin({ initialTokens, initialProjects }: { initialTokens: IngestTokenInfo[]; initialProjects: ProjectInfo[] }) {
  const [tokens, setTokens] = useState(initialTokens);
  const [projects, setProjects] = useState(initialProjects);
  const [created, setCreated] = useState<{ token: string; info: IngestTokenInfo } | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function refresh() {
    const r = await call<{ tokens: IngestTokenInfo[]; projects: ProjectInfo[] }>("/api/admin/tokens", "GET");
    setTokens(r.tokens);
    setProjects(r.projects);
  }

  async function create(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    setError(null);
    setCreated(null);
    try {
      setCreated(await call("/api/admin/tokens", "POST", { projectName: f.get("projectName"), name: f.get("name") }));
      formEl.reset();
      await refresh();
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function revoke(t: IngestTokenInfo) {
    if (!window.confirm(`Revoke "${t.name}" (${t.prefix}…) of project ${t.projectName}? Jobs using it are refused from now on.`)) return;
    setError(null);
    try {
      await call(`/api/admin/tokens/${encodeURIComponent(t.id)}`, "DELETE");
      await refresh();
    } catch (err) {
      setError(errorText(err));
    }
  }

  const input = "rounded border border-line bg-bg px-2 py-1 text-sm";
  const snippet = created
    ? `export MOE_TELEMETRY_TOKEN=${created.token}\n# then start the training job (Python client) or, to try it:\nmoe-telemetry simulate --collector COLLECTOR_HOST:50051`
    : "";
  return (
    <div className="space-y-4">
      <form onSubmit={create} className="grid max-w-3xl gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-3" data-testid="create-token-form">
        <h2 className="text-sm font-semibold sm:col-span-3">New token</h2>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">Project (new or existing)</span>
          <input name="projectName" required list="projects" autoComplete="off" className={input} />
          <datalist id="projects">
            {projects.map((p) => (
              <option key={p.id} value={p.name} />
            ))}
          </datalist>
        </label>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">Token name (e.g. the cluster or job)</span>
          <input name="name" required autoComplete="off" className={input} />
        </label>
        <div className="flex items-end">
          <button type="submit" className="rounded bg-accent px-3 py-1.5 text-sm font-medium text-white">
            Create token
          </button>
        </div>
      </form>
      {error && (
        <p role="alert" className="max-w-3xl rounded border border-danger/40 bg-danger-bg p-2 text-sm text-danger" data-testid="tokens-error">
          {error}
        </p>
      )}
      {created && (
        <div className="max-w-3xl space-y-2 rounded-lg border border-ok/40 bg-ok-bg p-4 text-sm" data-testid="created-token">
          <p className="font-medium text-ok">
            Token &ldquo;{created.info.name}&rdquo; for project {created.info.projectName}: copy it now, it is not shown again.
          </p>
          <div className="flex items-center gap-2">
            <code className="break-all rounded bg-surface px-2 py-1 font-mono text-xs text-fg" data-testid="token-secret">
              {created.token}
            </code>
            <CopyButton text={created.token} />
          </div>
          <pre className="overflow-x-auto rounded bg-surface p-2 font-mono text-xs text-fg">{snippet}</pre>
        </div>
      )}
      <div className="overflow-x-auto rounded-lg border border-line bg-surface">
        <table className="w-full text-sm" data-testid="tokens-table">
          <thead className="border-b border-line text-left text-xs text-muted">
            <tr>
              <th className="px-3 py-2 font-medium">Project</th>
              <th className="px-3 py-2 font-medium">Name</th>
              <th className="px-3 py-2 font-medium">Prefix</th>
              <th className="px-3 py-2 font-medium">Created</th>
              <th className="px-3 py-2 font-medium">Last used</th>
              <th className="px-3 py-2 font-medium">State</th>
              <th className="px-3 py-2 font-medium" />
            </tr>
          </thead>
          <tbody>
            {tokens.length === 0 && (
              <tr>
                <td colSpan={7} className="px-3 py-4 text-center text-muted">
                  No tokens yet.
                </td>
              </tr>
            )}
            {tokens.map((t) => (
              <tr key={t.id} className="border-b border-line last:border-0" data-testid="token-row">
                <td className="px-3 py-2">{t.projectName}</td>
                <td className="px-3 py-2">{t.name}</td>
                <td className="px-3 py-2 font-mono text-xs">{t.prefix}…</td>
                <td className="px-3 py-2 text-xs text-muted">
                  {when(t.createdAtMs)}
                  {t.createdBy ? ` by ${t.createdBy}` : ""}
                </td>
                <td className="px-3 py-2 text-xs text-muted">{when(t.lastUsedMs)}</td>
                <td className="px-3 py-2">{t.revokedAtMs !== null ? <span className="text-danger">revoked {when(t.revokedAtMs)}</span> : <span className="text-ok">active</span>}</td>
                <td className="px-3 py-2 text-right">
                  {t.revokedAtMs === null && (
                    <button type="button" onClick={() => void revoke(t)} className="rounded border border-line px-2 py-0.5 text-xs hover:bg-surface-2">
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
