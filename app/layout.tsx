import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { AlertsIndicator } from "@/components/AlertsIndicator";
import { ThemeToggle } from "@/components/ThemeToggle";
import { SessionProvider } from "@/components/SessionContext";
import { UserMenu } from "@/components/UserMenu";
import { listAlerts } from "@/lib/web/data/alertQueries";
import { pageAuth } from "@/lib/web/auth/page";
import { roleAtLeast } from "@/lib/web/auth/roles";
import { ingestAuthMode } from "@/lib/store/ingestTokens";
import { summarizeFiring } from "@/lib/ui/summarizeFiring";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "MoE telemetry", template: "%s · MoE telemetry" },
  description: "Live load-balance monitoring for Mixture-of-Experts training runs (Megatron-Core).",
};

/*
 * Runs before first paint so the page never flashes the wrong theme: a stored choice
 * (localStorage "theme" = "light" | "dark") wins, otherwise the OS preference, which is followed live.
 */
const THEME_SCRIPT = `(function(){try{var d=document.documentElement,m=window.matchMedia("(prefers-color-scheme: dark)");
function a(){var s=null;try{s=localStorage.getItem("theme")}catch(e){}
var dark=s==="dark"||(s!=="light"&&m.matches);d.classList.toggle("dark",dark);d.dataset.theme=s||"system"}
a();m.addEventListener("change",a);window.__applyTheme=a}catch(e){}})();`;

/**
 * RootLayout: header with product name, navigation and the signed-in user, banners when login or ingest
 * authentication is off, theme bootstrap, system fonts only.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  const auth = await pageAuth();
  const user = auth.user;
  const isAdmin = !!user && roleAtLeast(user.role, "admin");
  const ingestOff = ingestAuthMode() === "off";
  // The header's alert count comes with the first paint, not after the first live update.
  const firing = user ? summarizeFiring(await listAlerts({ status: "firing", limit: 1000 }).catch(() => [])) : null;
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body className="min-h-screen bg-bg text-fg antialiased">
        <header className="sticky top-0 z-30 border-b border-line bg-surface/95 backdrop-blur">
          <div className="mx-auto flex h-12 max-w-[1600px] items-center gap-6 px-4">
            <Link href="/" prefetch={false} className="flex items-center gap-2 font-semibold tracking-tight">
              <span aria-hidden className="inline-grid h-6 w-6 grid-cols-2 gap-0.5 rounded p-0.5">
                <span className="rounded-sm bg-[var(--heat-hot)]" />
                <span className="rounded-sm bg-[var(--heat-neutral)] ring-1 ring-line" />
                <span className="rounded-sm bg-[var(--heat-cold)]" />
                <span className="rounded-sm bg-[var(--heat-hot)] opacity-60" />
              </span>
              MoE telemetry
            </Link>
            {user && (
            <nav aria-label="Main" className="flex items-center gap-4 text-sm">
              <Link href="/" prefetch={false} className="text-muted hover:text-fg">
                Runs
              </Link>
              <Link href="/alerts" prefetch={false} className="text-muted hover:text-fg">
                Alerts
              </Link>
              <Link href="/import" prefetch={false} className="text-muted hover:text-fg">
                Import
              </Link>
              {isAdmin && (
                <>
                  {auth.mode === "on" && (
                    <Link href="/admin/users" prefetch={false} className="text-muted hover:text-fg">
                      Users
                    </Link>
                  )}
                  <Link href="/admin/tokens" prefetch={false} className="text-muted hover:text-fg">
                    Ingest tokens
                  </Link>
                </>
              )}
            </nav>
            )}
            <div className="ml-auto flex items-center gap-3">
              {user && <AlertsIndicator initial={firing} />}
              <ThemeToggle />
              {auth.mode === "on" && user && <UserMenu username={user.username} role={user.role} />}
            </div>
          </div>
          {auth.mode === "off" && (
            <p role="status" data-testid="login-off-banner" className="border-t border-warn/40 bg-warn-bg px-4 py-1.5 text-center text-xs text-warn">
              Login is off (DASHBOARD_AUTH=off): anyone who can reach this dashboard can read and change everything.
            </p>
          )}
          {ingestOff && user && (
            <p role="status" data-testid="ingest-auth-off-banner" className="border-t border-warn/40 bg-warn-bg px-4 py-1.5 text-center text-xs text-warn">
              Ingest authentication is off (INGEST_AUTH=off): any process that can reach the collector can write runs.
            </p>
          )}
        </header>
        <main className="mx-auto max-w-[1600px] px-4 py-6">
          <SessionProvider value={user ? { username: user.username, role: user.role, loginOff: auth.mode === "off" } : null}>{children}</SessionProvider>
        </main>
      </body>
    </html>
  );
}
