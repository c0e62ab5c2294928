"use client";

import Link from "next/link";
import { useState } from "react";
import { useCan } from "@/components/SessionContext";

interface ImportResult {
  runId: string;
  runKey: string;
  iterations: { count: number; first: number; last: number } | null;
  series: Array<{ name: string; points: number; first: number; last: number }>;
  skipped: Array<{ reason: string; count: number }>;
  sent: { scalars: number; memorySamples: number; layerReports: number };
  rejectedByCollector: Array<{ reason: string; count: number }>;
  warnings: string[];
  errors?: string[];
}

/**
 * ImportForm posts a file to /api/import and shows the importer's summary (or its error, as the API words
 * it). Importing needs the editor role: a viewer sees why instead of the form (the API answers 403 too).
 */
export function ImportForm() {
  const { allowed, session } = useCan("editor");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const res = await fetch("/api/import", { method: "POST", body: new FormData(e.currentTarget) });
      const body = (await res.json()) as ImportResult & { error?: string };
      if (!res.ok) setError(body.error ?? `HTTP ${res.status}`);
      else setResult(body);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  // min-w-0 and w-full: a number input's intrinsic width would otherwise overflow its grid cell.
  const input = "w-full min-w-0 rounded border border-line bg-surface px-2 py-1 text-sm";
  if (!allowed) {
    return (
      <p className="max-w-3xl rounded border border-line bg-surface-2 p-3 text-sm text-muted" data-testid="import-read-only">
        Importing needs the editor role{session ? ` (${session.username} is ${session.role})` : ""}.
      </p>
    );
  }
  return (
    <div className="space-y-4">
      <form onSubmit={submit} className="grid max-w-3xl gap-3 rounded-lg border border-line bg-surface p-4" data-testid="import-form">
        <label className="grid gap-1 text-sm">
          <span className="text-muted">What it is</span>
          <select name="kind" className={input} defaultValue="megatron-log">
            <option value="megatron-log">Megatron stdout training log</option>
            <option value="tensorboard">TensorBoard event file</option>
            <option value="tokens-jsonl">Token-count JSONL dump</option>
          </select>
        </label>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">File</span>
          <input type="file" name="file" required className="text-sm" />
        </label>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">Run name (default: the file name)</span>
          <input name="run" className={input} />
        </label>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">Launch script or Megatron command line (when the input does not print its arguments)</span>
          <textarea name="config" rows={4} className={`${input} font-mono`} />
        </label>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          {[["layers", "num_layers"], ["experts", "num_experts"], ["topk", "moe_router_topk"], ["worldSize", "world size"]].map(([name, label]) => (
            <label key={name} className="grid min-w-0 gap-1 text-sm">
              <span className="text-muted">{label}</span>
              <input name={name} type="number" min={1} className={input} />
            </label>
          ))}
        </div>
        <div>
          <button type="submit" disabled={busy} className="rounded bg-accent px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50">
            {busy ? "Importing…" : "Import"}
          </button>
        </div>
      </form>
      {error && (
        <p role="alert" className="max-w-3xl rounded border border-red-400 bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200" data-testid="import-error">
          {error}
        </p>
      )}
      {result && (
        <div className="max-w-3xl space-y-2 rounded-lg border border-line bg-surface p-4 text-sm" data-testid="import-result">
          <p>
            Imported into <Link className="underline" href={`/runs/${result.runId}`}>{result.runKey}</Link>
            {result.iterations ? ` — iterations ${result.iterations.first}..${result.iterations.last}` : ""}: {result.sent.scalars} series points,{" "}
            {result.sent.memorySamples} memory samples, {result.sent.layerReports} layer reports.
          </p>
          {result.series.length > 0 && (
            <ul className="list-disc pl-5">
              {result.series.map((s) => (
                <li key={s.name}>
                  <code>{s.name}</code>: {s.points} points, {s.first}..{s.last}
                </li>
              ))}
            </ul>
          )}
          {[...result.skipped, ...result.rejectedByCollector].map((s) => (
            <p key={s.reason} className="text-muted">
              skipped {s.count}: {s.reason}
            </p>
          ))}
          {[...result.warnings, ...(result.errors ?? [])].map((w) => (
            <p key={w} className="text-amber-700 dark:text-amber-300">
              {w}
            </p>
          ))}
        </div>
      )}
    </div>
  );
}
