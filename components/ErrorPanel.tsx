"use client";

import { useEffect } from "react";

/** ErrorPanel: the body of every error.tsx; shows the digest so the server log line can be found, and a retry. */
export function ErrorPanel({ title, error, retry }: { title: string; error: unknown; retry: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  const digest = error instanceof Error ? (error as Error & { digest?: string }).digest : undefined;
  // Production builds replace a server error's message with a generic one; the digest is what to search the log for.
  const message = digest && process.env.NODE_ENV === "production"
    ? "The server failed while reading this page's data. Its log has the details under the digest below."
    : error instanceof Error
      ? error.message
      : String(error);
  return (
    <div role="alert" className="rounded-lg border border-danger/40 bg-danger-bg p-6" data-testid="error-panel">
      <h2 className="mb-1 font-semibold text-danger">{title}</h2>
      <p className="mb-3 text-sm text-fg">{message}</p>
      {digest && <p className="mb-3 font-mono text-xs text-muted">digest {digest}</p>}
      <button type="button" onClick={() => retry()} className="rounded border border-line bg-surface px-3 py-1 text-sm hover:bg-surface-2">
        Try again
      </button>
    </div>
  );
}
