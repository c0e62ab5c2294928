/**
 * First start: while no user exists, /setup creates the first admin, guarded by a one-time setup code
 * that only someone who can read the server's log knows (so nobody else on the network can claim the
 * instance first). MOE_ADMIN_USER + MOE_ADMIN_PASSWORD create that admin without the browser step, and
 * `moe-telemetry users create NAME --role admin` works at any time.
 */
import type { Db } from "../../store/db";
import { countUsers, createUser } from "./users";
import { dashboardAuthMode } from "./config";
import { randomBytes } from "node:crypto";
import { equalSecrets } from "./tokens";

const holder = globalThis as unknown as { __moeSetupCode?: string };

/** Crockford base32 without look-alikes; 12 characters = 60 bits, shown as XXXX-XXXX-XXXX. */
const ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789";

function newCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

/** setupCode: this process's setup code, made (and printed) on first use. */
export function setupCode(print: (line: string) => void = (l) => console.log(l)): string {
  if (!holder.__moeSetupCode) {
    holder.__moeSetupCode = newCode();
    print(
      `moe-telemetry: no dashboard users yet. Open /setup on the dashboard and enter the setup code ${holder.__moeSetupCode} ` +
        "to create the first admin (or run `moe-telemetry users create NAME --role admin`).",
    );
  }
  return holder.__moeSetupCode;
}

/** checkSetupCode compares a typed code with this process's, ignoring case, spaces and dashes. */
export function checkSetupCode(typed: string): boolean {
  const norm = (s: string) => s.toUpperCase().replace(/[\s-]/g, "");
  return equalSecrets(norm(typed), norm(setupCode()));
}

/** forgetSetupCode: once the first admin exists the code must never work again. */
export function forgetSetupCode(): void {
  holder.__moeSetupCode = undefined;
}

/** bootstrapAdminFromEnv creates the admin named in MOE_ADMIN_USER/MOE_ADMIN_PASSWORD if there is no user yet. */
export async function bootstrapAdminFromEnv(db: Db, env: Record<string, string | undefined> = process.env): Promise<string | null> {
  const username = env.MOE_ADMIN_USER?.trim();
  const password = env.MOE_ADMIN_PASSWORD;
  if (!username && !password) return null;
  if (!username || !password) throw new Error("MOE_ADMIN_USER and MOE_ADMIN_PASSWORD must be set together");
  if ((await countUsers(db)) > 0) return null;
  await createUser(db, { username, password, role: "admin" });
  return username;
}

/** onDashboardStart (from instrumentation.ts): bootstrap the admin, or print the setup code if still needed. */
export async function onDashboardStart(db: Db, log: (line: string) => void = (l) => console.log(l)): Promise<void> {
  if (dashboardAuthMode() === "off") {
    log("moe-telemetry: DASHBOARD_AUTH=off: dashboard login is disabled; anyone who can reach the dashboard can read and change everything.");
    return;
  }
  const created = await bootstrapAdminFromEnv(db);
  if (created) log(`moe-telemetry: created the dashboard admin ${created} from MOE_ADMIN_USER.`);
  if ((await countUsers(db)) === 0) setupCode(log);
}
