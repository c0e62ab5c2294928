import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { pageAuth } from "@/lib/web/auth/page";
import { countUsers } from "@/lib/web/auth/users";
import { getDb } from "@/lib/web/data/webDb";
import { safeNext } from "@/lib/ui/safeNext";
import { LoginForm } from "./LoginForm";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

/** LoginPage: the sign-in form; with login off, or already signed in, it moves on to `next`. */
export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const next = safeNext((await searchParams).next);
  const auth = await pageAuth();
  if (auth.mode === "off" || auth.user) redirect(next);
  if ((await countUsers(await getDb())) === 0) redirect("/setup");
  return (
    <div className="mx-auto mt-12 max-w-sm space-y-4 rounded-lg border border-line bg-surface p-6" data-testid="login-page">
      <h1 className="text-lg font-semibold">Sign in</h1>
      <LoginForm next={next} />
      <p className="text-xs text-muted">
        No account? An admin creates one under Admin → Users, or on the server with <code>moe-telemetry users create NAME</code>.
      </p>
    </div>
  );
}
