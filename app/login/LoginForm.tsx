"use client";

import { useState } from "react";
import { apiCall, errorText } from "@/lib/ui/apiCall";

/** LoginForm posts to /api/auth/login and, once signed in, loads `next` (a full load, so the header shows the user). */
export function LoginForm({ next }: { next: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await apiCall("/api/auth/login", "POST", { username: form.get("username"), password: form.get("password") });
      window.location.assign(next);
      return;
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  }

  const input = "rounded border border-line bg-bg px-2 py-1.5 text-sm";
  return (
    <form onSubmit={submit} className="grid gap-3" data-testid="login-form">
      <label className="grid gap-1 text-sm">
        <span className="text-muted">Username</span>
        <input name="username" autoComplete="username" required autoFocus className={input} />
      </label>
      <label className="grid gap-1 text-sm">
        <span className="text-muted">Password</span>
        <input name="password" type="password" autoComplete="current-password" required className={input} />
      </label>
      {error && (
        <p role="alert" className="rounded border border-danger/40 bg-danger-bg p-2 text-sm text-danger" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy} className="rounded bg-accent px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50">
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
