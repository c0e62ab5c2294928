/**
 * Dashboard users: create, list, change role, disable, reset password, and check a login.
 * Every change that removes rights also deletes the user's sessions, and sessions are re-read with their
 * user on every request anyway, so a change takes effect on the next request.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../../store/db";
import { Conflict, InvalidInput, NotFound } from "../../analysis/errors";
import { burnVerify, hashPassword, validatePassword, verifyPassword } from "./password";
import { isRole, type Role } from "./roles";

/** UserInfo: a user as the API and the CLI show it (never the hash). */
export interface UserInfo {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  createdAtMs: number;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** validateUsername throws InvalidInput unless the name is 1-64 letters, digits, ".", "_", "@" or "-". */
export function validateUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new InvalidInput("the username must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", "username");
  }
}

/** parseRole throws InvalidInput for anything but viewer, editor or admin. */
export function parseRole(role: string): Role {
  if (!isRole(role)) throw new InvalidInput(`the role must be viewer, editor or admin, got "${role}"`, "role");
  return role;
}

function info(u: { id: string; username: string; role: string; disabled: boolean; createdAtMs: bigint }): UserInfo {
  return { id: u.id, username: u.username, role: isRole(u.role) ? u.role : "viewer", disabled: u.disabled, createdAtMs: Number(u.createdAtMs) };
}

/** countUsers: 0 means the instance still needs its first admin (/setup). */
export function countUsers(db: Db): Promise<number> {
  return db.prisma.user.count();
}

/** createUser adds a user; Conflict if the name is taken. */
export async function createUser(db: Db, o: { username: string; password: string; role: string }, now = Date.now()): Promise<UserInfo> {
  validateUsername(o.username);
  const role = parseRole(o.role);
  validatePassword(o.password);
  if (await db.prisma.user.findUnique({ where: { username: o.username } })) throw new Conflict(`the user ${o.username} already exists`, "username");
  const passwordHash = await hashPassword(o.password);
  try {
    return info(await db.prisma.user.create({ data: { id: randomUUID(), username: o.username, passwordHash, role, createdAtMs: BigInt(now) } }));
  } catch (err) {
    // Two creations raced past the check above: the unique index decides.
    if (await db.prisma.user.findUnique({ where: { username: o.username } })) throw new Conflict(`the user ${o.username} already exists`, "username");
    throw err;
  }
}

/** listUsers: every user, by name. */
export async function listUsers(db: Db): Promise<UserInfo[]> {
  return (await db.prisma.user.findMany({ orderBy: { username: "asc" } })).map(info);
}

async function byName(db: Db, username: string) {
  const u = await db.prisma.user.findUnique({ where: { username } });
  if (!u) throw new NotFound(`there is no user ${username}`, "username");
  return u;
}

/**
 * assertAnotherAdmin refuses a change that would leave no enabled admin, which would lock everyone out
 * of user management (the CLI could still repair it, but the dashboard could not).
 */
async function assertAnotherAdmin(db: Db, userId: string): Promise<void> {
  const others = await db.prisma.user.count({ where: { role: "admin", disabled: false, NOT: { id: userId } } });
  if (others === 0) throw new Conflict("this is the last enabled admin: make another user admin first", "username");
}

/** setRole changes a user's role. */
export async function setRole(db: Db, username: string, role: string): Promise<UserInfo> {
  const r = parseRole(role);
  const u = await byName(db, username);
  if (u.role === "admin" && r !== "admin" && !u.disabled) await assertAnotherAdmin(db, u.id);
  return info(await db.prisma.user.update({ where: { id: u.id }, data: { role: r } }));
}

/** setDisabled disables (ending every session) or re-enables a user. */
export async function setDisabled(db: Db, username: string, disabled: boolean): Promise<UserInfo> {
  const u = await byName(db, username);
  if (disabled && u.role === "admin" && !u.disabled) await assertAnotherAdmin(db, u.id);
  const updated = await db.prisma.user.update({ where: { id: u.id }, data: { disabled } });
  if (disabled) await db.prisma.session.deleteMany({ where: { userId: u.id } });
  return info(updated);
}

/** resetPassword sets a new password and ends the user's sessions. */
export async function resetPassword(db: Db, username: string, password: string): Promise<UserInfo> {
  validatePassword(password);
  const u = await byName(db, username);
  const passwordHash = await hashPassword(password);
  const updated = await db.prisma.user.update({ where: { id: u.id }, data: { passwordHash } });
  await db.prisma.session.deleteMany({ where: { userId: u.id } });
  return info(updated);
}

/**
 * checkLogin returns the user when the name exists, is enabled and the password matches, else null —
 * one answer for every failure so the caller cannot tell a wrong name from a wrong password.
 */
export async function checkLogin(db: Db, username: string, password: string): Promise<UserInfo | null> {
  const u = await db.prisma.user.findUnique({ where: { username } });
  if (!u) {
    await burnVerify(password);
    return null;
  }
  const ok = await verifyPassword(u.passwordHash, password);
  return ok && !u.disabled ? info(u) : null;
}
