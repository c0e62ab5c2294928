import Link from "next/link";
import type { RequestAuth } from "@/lib/web/auth/request";

/** NeedsAdmin: what an admin page shows to a signed-in user without the admin role (the API answers 403 too). */
export function NeedsAdmin({ auth }: { auth: RequestAuth }) {
  return (
    <div className="max-w-xl space-y-2 rounded-lg border border-line bg-surface p-4 text-sm" data-testid="needs-admin">
      <h1 className="text-lg font-semibold">This page needs the admin role</h1>
      <p className="text-muted">
        You are signed in as <b>{auth.user?.username}</b> with the role <b>{auth.user?.role}</b>. Ask an admin to change your role.
      </p>
      <Link href="/" className="text-accent underline">
        Back to the runs
      </Link>
    </div>
  );
}
