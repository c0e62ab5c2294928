import type { Metadata } from "next";
import { pageAuth } from "@/lib/web/auth/page";
import { MIN_PASSWORD_LENGTH } from "@/lib/web/auth/password";
import { roleAtLeast, ROLE_RIGHTS } from "@/lib/web/auth/roles";
import { listUsers } from "@/lib/web/auth/users";
import { getDb } from "@/lib/web/data/webDb";
import { NeedsAdmin } from "../NeedsAdmin";
import { UsersAdmin } from "./UsersAdmin";

export const metadata: Metadata = { title: "Users" };
export const dynamic = "force-dynamic";

/** UsersPage (admin): create users, change roles, disable, reset passwords. */
export default async function UsersPage() {
  const auth = await pageAuth();
  if (!auth.user || !roleAtLeast(auth.user.role, "admin")) return <NeedsAdmin auth={auth} />;
  if (auth.mode === "off") {
    return (
      <p className="max-w-xl rounded-lg border border-line bg-surface p-4 text-sm" data-testid="users-login-off">
        Login is off (DASHBOARD_AUTH=off), so there are no users to manage. Remove the setting to turn login on.
      </p>
    );
  }
  return (
    <div className="space-y-4" data-testid="users-page">
      <h1 className="text-lg font-semibold">Users</h1>
      <ul className="text-sm text-muted">
        {Object.entries(ROLE_RIGHTS).map(([role, rights]) => (
          <li key={role}>
            <b className="text-fg">{role}</b> {rights}
          </li>
        ))}
      </ul>
      <UsersAdmin initial={await listUsers(await getDb())} me={auth.user.username} minPasswordLength={MIN_PASSWORD_LENGTH} />
    </div>
  );
}
