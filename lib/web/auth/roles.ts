/**
 * Dashboard roles. They are ordered: each role can do everything the one below it can.
 * viewer reads; editor also changes alert rules and imports runs; admin also manages
 * users and ingest tokens.
 */

export const ROLES = ["viewer", "editor", "admin"] as const;

/** Role: what a dashboard user may do. */
export type Role = (typeof ROLES)[number];

/** isRole narrows a string to a Role. */
export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** roleAtLeast tells whether `role` includes the rights of `needed`. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** ROLE_RIGHTS: one line per role for help texts and the users page. */
export const ROLE_RIGHTS: Record<Role, string> = {
  viewer: "reads runs, alerts and rules",
  editor: "also changes alert rules and imports runs",
  admin: "also manages users and ingest tokens",
};
