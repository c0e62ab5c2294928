"use client";

import { useState } from "react";

/** UserMenu: who is signed in, with which role, and a sign-out button (POST /api/auth/logout, then /login). */
export function UserMenu({ username, role }: { username: string; role: string }) {
  const [busy, setBusy] = useState(false);
  async function logout() {
    setBusy(true);
    try {
      await fetch("/api/auth/logout", { method: "POST" });
    } finally {
      window.location.assign("/login");
    }
  }
  return (
    <div className="flex items-center gap-2 text-xs" data-testid="user-menu">
      <span className="text-muted">
        <span className="font-medium text-fg" data-testid="user-name">
          {username}
        </span>{" "}
        <span className="rounded bg-surface-2 px-1.5 py-0.5" data-testid="user-role">
          {role}
        </span>
      </span>
      <button
        type="button"
        onClick={logout}
        disabled={busy}
        data-testid="logout"
        className="rounded border border-line bg-surface px-2 py-0.5 text-muted hover:bg-surface-2 hover:text-fg disabled:opacity-50"
      >
        Sign out
      </button>
    </div>
  );
}
