/**
 * The login, setup and logout flows for the /api/auth route handlers: throttling, the generic failure
 * message, session creation and the Set-Cookie header.
 */
import { apiRoute } from "../http/apiRoutes";
import { Conflict } from "../../analysis/errors";
import type { Db } from "../../store/db";
import { parseBody } from "./body";
import { clearedSessionCookie, isSecureRequest, readCookie, sessionCookie } from "./cookies";
import { Forbidden, TooManyAttempts, Unauthenticated } from "../../analysis/errors";
import { CLIENT_ADDRESS_HEADER } from "./forwarding";
import { createSession, deleteSession, type SessionUser } from "./sessions";
import { checkSetupCode, forgetSetupCode } from "./setup";
import { LoginThrottle } from "./throttle";
import { checkLogin, countUsers, createUser } from "./users";

const holder = globalThis as unknown as { __moeLoginThrottle?: LoginThrottle };
const throttle = (holder.__moeLoginThrottle ??= new LoginThrottle());

/** LOGIN_FAILED: the one message for a wrong name, a wrong password and a disabled user. */
export const LOGIN_FAILED = "wrong username or password (or the account is disabled)";

/**
 * clientAddress: the client address the dashboard server's edge resolved (forwarding.ts: the socket's, or the
 * nearest untrusted hop behind TRUSTED_PROXIES), for throttling. Never X-Forwarded-For itself: anyone can send one.
 */
export function clientAddress(headers: Headers): string {
  return headers.get(CLIENT_ADDRESS_HEADER) ?? "unknown";
}

// The bodies as the API documents them (lib/web/http/apiRoutes.ts).
const Credentials = apiRoute("POST /api/auth/login").body;
const SetupBody = apiRoute("POST /api/auth/setup").body;

function withCookie(body: unknown, cookie: string, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", "set-cookie": cookie } });
}

async function startSession(db: Db, req: Request, user: SessionUser): Promise<Response> {
  const { secret, expiresAtMs } = await createSession(db, user.id);
  return withCookie({ user: { username: user.username, role: user.role }, expiresAtMs }, sessionCookie(secret, expiresAtMs, isSecureRequest(req.url, req.headers)));
}

/** login checks credentials (throttled) and answers with the session cookie. */
export async function login(db: Db, req: Request, body: unknown): Promise<Response> {
  const { username, password } = parseBody(Credentials, body);
  const ip = clientAddress(req.headers);
  const wait = throttle.retryAfterMs(username, ip);
  if (wait > 0) {
    const s = Math.ceil(wait / 1000);
    throw new TooManyAttempts(`too many failed logins from this address: try again in ${s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`}`, s);
  }
  const user = await checkLogin(db, username, password);
  if (!user) {
    throttle.fail(username, ip);
    throw new Unauthenticated(LOGIN_FAILED);
  }
  throttle.succeed(username, ip);
  return startSession(db, req, user);
}

/** setup creates the first admin when the setup code matches and no user exists yet, and signs them in. */
export async function setup(db: Db, req: Request, body: unknown): Promise<Response> {
  const { username, password, code } = parseBody(SetupBody, body);
  if ((await countUsers(db)) > 0) throw new Conflict("this dashboard already has users: sign in at /login", "code");
  const ip = clientAddress(req.headers);
  const wait = throttle.retryAfterMs("\0setup", ip);
  if (wait > 0) throw new TooManyAttempts("too many wrong setup codes: wait and try again", Math.ceil(wait / 1000));
  if (!checkSetupCode(code)) {
    throttle.fail("\0setup", ip);
    throw new Forbidden("wrong setup code: use the one the server printed at start", "code");
  }
  const user = await createUser(db, { username, password, role: "admin" });
  forgetSetupCode();
  return startSession(db, req, user);
}

/** logout deletes the session (so the old cookie stops working everywhere) and clears the cookie. */
export async function logout(db: Db, req: Request): Promise<Response> {
  await deleteSession(db, readCookie(req.headers.get("cookie")) ?? "");
  return withCookie({ ok: true }, clearedSessionCookie(isSecureRequest(req.url, req.headers)));
}
