import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { dashboardAuthMode } from "@/lib/web/auth/config";
import { MIN_PASSWORD_LENGTH } from "@/lib/web/auth/password";
import { setupCode } from "@/lib/web/auth/setup";
import { countUsers } from "@/lib/web/auth/users";
import { getDb } from "@/lib/web/data/webDb";
import { SetupForm } from "./SetupForm";

export const metadata: Metadata = { title: "First start" };
export const dynamic = "force-dynamic";

/** SetupPage: while no user exists, creates the first admin; afterwards it only points to /login. */
export default async function SetupPage() {
  if (dashboardAuthMode() === "off") redirect("/");
  if ((await countUsers(await getDb())) > 0) redirect("/login");
  // Makes (and prints) the code if the start hook did not, e.g. after the last user was deleted by hand.
  setupCode();
  return (
    <div className="mx-auto mt-12 max-w-md space-y-4 rounded-lg border border-line bg-surface p-6" data-testid="setup-page">
      <h1 className="text-lg font-semibold">First start: create the admin</h1>
      <p className="text-sm text-muted">
        This dashboard has no users yet. Enter the one-time setup code the server printed when it started (it proves you can
        read the server&apos;s log, so nobody else on the network can claim this instance), then choose the admin&apos;s name and
        password. Alternatively set <code>MOE_ADMIN_USER</code> and <code>MOE_ADMIN_PASSWORD</code> before starting, or run{" "}
        <code>moe-telemetry users create NAME --role admin</code>.
      </p>
      <SetupForm minPasswordLength={MIN_PASSWORD_LENGTH} />
    </div>
  );
}
