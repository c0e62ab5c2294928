"use client";

import { useState } from "react";
import { apiCall, errorText } from "@/lib/ui/apiCall";

/** SetupForm creates the first admin with the server's one-time setup code, then opens the dashboard signed in. */
export function SetupForm({ minPasswordLength }: { minPasswordLength: number }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    if (form.get("password") !== form.get("password2")) {
      setError("the two passwords differ");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await apiCall("/api/auth/setup", "POST", { code: form.get("code"), username: form.get("username"), password: form.get("password") });
      window.location.assign("/");
      return;
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  }

  const input = "rounded border border-line bg-bg px-2 py-1.5 text-sm";
  return (
    <form onSubmit={submit} className="grid gap-3" data-testid="setup-form">
      <label className="grid gap-1 text-sm">
        <span className="text-muted">Setup code (printed in the server&apos;s log at start)</span>
        <input name="code" required autoComplete="off" spellCheck={false} placeholder="XXXX-XXXX-XXXX" className={`${input} font-mono uppercase`} />
      </label>
      <label className="grid gap-1 text-sm">
        <span className="text-muted">Admin username</span>
        <input name="username" required autoComplete="username" className={input} />
      </label>
      <label className="grid gap-1 text-sm">
        <span className="text-muted">Password (at least {minPasswordLength} characters)</span>
        <input name="password" type="password" required minLength={minPasswordLength} autoComplete="new-password" className={input} />
      </label>
      <label className="grid gap-1 text-sm">
        <span className="text-muted">Password again</span>
        <input name="password2" type="password" required minLength={minPasswordLength} autoComplete="new-password" className={input} />
      </label>
      {error && (
        <p role="alert" className="rounded border border-danger/40 bg-danger-bg p-2 text-sm text-danger" data-testid="setup-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy} className="rounded bg-accent px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50">
        {busy ? "Creating…" : "Create admin and sign in"}
      </button>
    </form>
  );
}
