import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { AlertsIndicator } from "@/components/AlertsIndicator";
import { ThemeToggle } from "@/components/ThemeToggle";
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

/** RootLayout: header with product name and navigation, theme bootstrap, system fonts only. */
export default function RootLayout({ children }: { children: ReactNode }) {
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
            </nav>
            <div className="ml-auto flex items-center gap-3">
              <AlertsIndicator />
              <ThemeToggle />
            </div>
          </div>
        </header>
        <main className="mx-auto max-w-[1600px] px-4 py-6">{children}</main>
      </body>
    </html>
  );
}
