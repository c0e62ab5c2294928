"use client";

import { useState } from "react";
import { apiCall as call, errorText } from "@/lib/ui/apiCall";

interface User {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  createdAtMs: number;
}

const ROLES = ["viewer", "editor", "admin"];

/** UsersAdmin: the users table with inline actions, and the form to add a user; errors are the API's words. */
export function UsersAdmin({ initial, me, minPasswordLength }: { initial: User[]; me: string; minPasswordLength: number }) {
  const [users, setUsers] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [resetFor, setResetFor] = useState<string | null>(null);

  async function run(action: () => Promise<unknown>, done: string) {
    setError(null);
    setNotice(null);
    try {
      await action();
      setUsers((await call("/api/admin/users", "GET")) as User[]);
      setNotice(done);
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  }

  async function create(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    const username = String(f.get("username"));
    const ok = await run(() => call("/api/admin/users", "POST", { username, password: f.get("password"), role: f.get("role") }), `created ${username}`);
    if (ok) formEl.reset();
  }

  async function reset(e: React.FormEvent<HTMLFormElement>, username: string) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const ok = await run(() => call(`/api/admin/users/${encodeURIComponent(username)}`, "PATCH", { password: f.get("password") }), `new password set for ${username}; their sessions ended`);
    if (ok) setResetFor(null);
  }

  const input = "rounded border border-line bg-bg px-2 py-1 text-sm";
  const button = "rounded border border-line bg-surface px-2 py-0.5 text-xs hover:bg-surface-2 disabled:opacity-50";
  return (
    <div className="space-y-4">
      {error && (
        <p role="alert" className="max-w-3xl rounded border border-danger/40 bg-danger-bg p-2 text-sm text-danger" data-testid="users-error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status" className="max-w-3xl rounded border border-ok/40 bg-ok-bg p-2 text-sm text-ok" data-testid="users-notice">
          {notice}
        </p>
      )}
      <div className="overflow-x-auto rounded-lg border border-line bg-surface">
        <table className="w-full text-sm" data-testid="users-table">
          <thead className="border-b border-line text-left text-xs text-muted">
            <tr>
              <th className="px-3 py-2 font-medium">User</th>
              <th className="px-3 py-2 font-medium">Role</th>
              <th className="px-3 py-2 font-medium">State</th>
              <th className="px-3 py-2 font-medium">Created</th>
              <th className="px-3 py-2 font-medium">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} className="border-b border-line last:border-0" data-testid={`user-row-${u.username}`}>
                <td className="px-3 py-2 font-medium">
                  {u.username}
                  {u.username === me && <span className="ml-1 text-xs text-muted">(you)</span>}
                </td>
                <td className="px-3 py-2">
                  <select
                    aria-label={`role of ${u.username}`}
                    value={u.role}
                    className={input}
                    onChange={(e) => {
                      const role = e.target.value;
                      void run(() => call(`/api/admin/users/${encodeURIComponent(u.username)}`, "PATCH", { role }), `${u.username} is now ${role}`);
                    }}
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="px-3 py-2">{u.disabled ? <span className="text-danger">disabled</span> : <span className="text-ok">active</span>}</td>
                <td className="px-3 py-2 text-xs text-muted">{new Date(u.createdAtMs).toISOString().slice(0, 16).replace("T", " ")}</td>
                <td className="px-3 py-2">
                  <div className="flex flex-wrap items-center gap-2">
                    <button
                      type="button"
                      className={button}
                      onClick={() =>
                        void run(
                          () => call(`/api/admin/users/${encodeURIComponent(u.username)}`, "PATCH", { disabled: !u.disabled }),
                          `${u.username} ${u.disabled ? "enabled" : "disabled; their sessions ended"}`,
                        )
                      }
                    >
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                    <button type="button" className={button} onClick={() => setResetFor(resetFor === u.username ? null : u.username)}>
                      Reset password
                    </button>
                    {resetFor === u.username && (
                      <form onSubmit={(e) => void reset(e, u.username)} className="flex items-center gap-1">
                        <input
                          name="password"
                          type="password"
                          required
                          minLength={minPasswordLength}
                          autoComplete="new-password"
                          placeholder="new password"
                          aria-label={`new password for ${u.username}`}
                          className={input}
                        />
                        <button type="submit" className={button}>
                          Set
                        </button>
                      </form>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form onSubmit={create} className="grid max-w-3xl gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-4 [&_label]:min-w-0 [&_label>*]:w-full" data-testid="create-user-form">
        <h2 className="text-sm font-semibold sm:col-span-4">Add a user</h2>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">Username</span>
          <input name="username" required autoComplete="off" className={input} />
        </label>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">Password (≥ {minPasswordLength})</span>
          <input name="password" type="password" required minLength={minPasswordLength} autoComplete="new-password" className={input} />
        </label>
        <label className="grid gap-1 text-sm">
          <span className="text-muted">Role</span>
          <select name="role" defaultValue="viewer" className={input}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <div className="flex items-end">
          <button type="submit" className="rounded bg-accent px-3 py-1.5 text-sm font-medium text-white">
            Add user
          </button>
        </div>
      </form>
    </div>
  );
}
