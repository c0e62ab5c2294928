/**
 * Next.js calls register() once when the dashboard server starts: the place to create the first admin
 * from MOE_ADMIN_USER/MOE_ADMIN_PASSWORD, or print the one-time setup code while no user exists.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getDb } = await import("./lib/web/data/webDb");
  const { onDashboardStart } = await import("./lib/web/auth/setup");
  try {
    await onDashboardStart(await getDb());
  } catch (err) {
    // The pages then show the setup form anyway; say why the bootstrap failed.
    console.error(`moe-telemetry: dashboard login bootstrap failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
