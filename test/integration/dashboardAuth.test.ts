/**
 * Dashboard login against a real database: users and roles, session expiry and revocation, the login,
 * setup and logout flows, and proxy.ts's gate (401 / redirect / 403 / cross-origin refusal).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NextRequest } from "next/server";
import type { Db } from "../../lib/store/db";
import { SESSION_IDLE_MS, SESSION_TTL_MS, SESSION_TOUCH_MS } from "../../lib/web/auth/config";
import { createSession, resolveSession } from "../../lib/web/auth/sessions";
import { checkLogin, createUser, listUsers, resetPassword, setDisabled, setRole } from "../../lib/web/auth/users";
import { LOGIN_FAILED, login, logout, setup } from "../../lib/web/auth/login";
import { checkSetupCode, forgetSetupCode, setupCode, bootstrapAdminFromEnv } from "../../lib/web/auth/setup";
import { errorResponse } from "../../lib/web/http/http";
import { CLIENT_ADDRESS_HEADER, trustedProxies, trustForwarding } from "../../lib/web/auth/forwarding";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tempDatabaseUrl } from "./harness";

let db: Db;
const PW = "a-long-password-1";
const BASE = "http://127.0.0.1:3999";

beforeAll(async () => {
  process.env.DATABASE_URL = tempDatabaseUrl();
  // The web handle (lib/web/data/webDb) opens DATABASE_URL; the test uses the same database.
  const { getDb } = await import("../../lib/web/data/webDb");
  db = await getDb();
});

afterAll(async () => {
  await db.close();
});

async function respond(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    return errorResponse(err);
  }
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(BASE + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

function cookieOf(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  return set.split(";")[0];
}

describe("first start", () => {
  it("creates the first admin only with the setup code, and only once", async () => {
    const logs: string[] = [];
    forgetSetupCode();
    const code = setupCode((l) => logs.push(l));
    expect(logs[0]).toContain(code);
    expect(checkSetupCode(code.toLowerCase().replace(/-/g, " "))).toBe(true);

    const wrong = await respond(() => setup(db, post("/api/auth/setup", {}), { code: "AAAA-BBBB-CCCC", username: "root", password: PW }));
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).error).toMatch(/wrong setup code/);

    const ok = await respond(() => setup(db, post("/api/auth/setup", {}), { code, username: "root", password: PW }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("set-cookie")).toMatch(/^moe_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    expect((await listUsers(db)).map((u) => [u.username, u.role])).toEqual([["root", "admin"]]);

    const again = await respond(() => setup(db, post("/api/auth/setup", {}), { code, username: "root2", password: PW }));
    expect(again.status).toBe(409);
    // The env bootstrap does nothing once a user exists.
    expect(await bootstrapAdminFromEnv(db, { MOE_ADMIN_USER: "envadmin", MOE_ADMIN_PASSWORD: PW })).toBeNull();
  });
});

describe("users", () => {
  it("refuses duplicates, bad roles, short passwords, and demoting the last admin", async () => {
    await createUser(db, { username: "vera", password: PW, role: "viewer" });
    await expect(createUser(db, { username: "vera", password: PW, role: "viewer" })).rejects.toThrow(/already exists/);
    await expect(createUser(db, { username: "x", password: PW, role: "owner" })).rejects.toThrow(/viewer, editor or admin/);
    await expect(createUser(db, { username: "y", password: "short", role: "viewer" })).rejects.toThrow(/at least 10/);
    await expect(setRole(db, "root", "viewer")).rejects.toThrow(/last enabled admin/);
    await expect(setDisabled(db, "root", true)).rejects.toThrow(/last enabled admin/);
  });

  it("checks logins with one answer for every failure", async () => {
    expect((await checkLogin(db, "vera", PW))?.role).toBe("viewer");
    expect(await checkLogin(db, "vera", PW + "x")).toBeNull();
    expect(await checkLogin(db, "nobody", PW)).toBeNull();
  });
});

describe("sessions", () => {
  it("expire after the idle timeout and the absolute lifetime", async () => {
    const u = await createUser(db, { username: "sam", password: PW, role: "editor" });
    const t0 = 10_000_000_000;
    const a = await createSession(db, u.id, t0);
    expect(await resolveSession(db, a.secret, t0 + 1000)).toMatchObject({ username: "sam", role: "editor" });
    expect(await resolveSession(db, a.secret, t0 + SESSION_IDLE_MS + 1)).toBeNull();
    // Deleted on the way: even "earlier" it no longer resolves.
    expect(await resolveSession(db, a.secret, t0 + 1000)).toBeNull();

    const b = await createSession(db, u.id, t0);
    let t = t0;
    // Kept busy, it still ends at the absolute limit.
    while (t + SESSION_IDLE_MS / 2 < t0 + SESSION_TTL_MS) {
      t += SESSION_IDLE_MS / 2;
      expect(await resolveSession(db, b.secret, t)).not.toBeNull();
    }
    expect(await resolveSession(db, b.secret, t0 + SESSION_TTL_MS)).toBeNull();
    expect(SESSION_TOUCH_MS).toBeLessThan(SESSION_IDLE_MS);
  });

  it("see a role change and a disabled user on the next lookup; a password reset ends them", async () => {
    const u = await createUser(db, { username: "rita", password: PW, role: "editor" });
    const s = await createSession(db, u.id);
    await setRole(db, "rita", "viewer");
    expect((await resolveSession(db, s.secret))?.role).toBe("viewer");
    await setDisabled(db, "rita", true);
    expect(await resolveSession(db, s.secret)).toBeNull();
    await setDisabled(db, "rita", false);
    const s2 = await createSession(db, u.id);
    await resetPassword(db, "rita", "another-long-password");
    expect(await resolveSession(db, s2.secret)).toBeNull();
  });

  it("stores only the SHA-256 of the secret", async () => {
    const u = (await listUsers(db)).find((x) => x.username === "vera")!;
    const s = await createSession(db, u.id);
    const rows = await db.prisma.session.findMany({ where: { userId: u.id } });
    expect(rows.some((r) => r.id === s.secret)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.id))).toBe(true);
  });
});

describe("login and logout", () => {
  it("fails with the generic message, throttles, and logs in and out", async () => {
    const ip = { [CLIENT_ADDRESS_HEADER]: "10.9.9.9" };
    const bad = await respond(() => login(db, post("/api/auth/login", {}, ip), { username: "vera", password: "wrong-password" }));
    expect(bad.status).toBe(401);
    expect((await bad.json()).error).toBe(LOGIN_FAILED);

    const good = await respond(() => login(db, post("/api/auth/login", {}, ip), { username: "vera", password: PW }));
    expect(good.status).toBe(200);
    const cookie = cookieOf(good);
    const secret = cookie.split("=")[1];
    expect(await resolveSession(db, secret)).toMatchObject({ username: "vera" });

    const out = await respond(() => logout(db, new Request(BASE + "/api/auth/logout", { method: "POST", headers: { cookie } })));
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect(await resolveSession(db, secret)).toBeNull();

    let last: Response | null = null;
    for (let i = 0; i < 6; i++) last = await respond(() => login(db, post("/api/auth/login", {}, { [CLIENT_ADDRESS_HEADER]: "10.8.8.8" }), { username: "throttled", password: "wrong-password" }));
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("hostile logins (issue 18.2, 18.3)", () => {
  /**
   * A real HTTP server whose edge is the dashboard server's (trustForwarding first, then the login handler),
   * so the test's requests carry whatever headers a client on the network chooses to send.
   */
  async function loginServer(proxies: string[]): Promise<{ url: string; close: () => Promise<void> }> {
    const trusted = trustedProxies(proxies);
    const server = http.createServer((req, res) => {
      trustForwarding(req, trusted);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
          const r = await respond(() => login(db, new Request(BASE + req.url, { method: "POST", headers }), JSON.parse(Buffer.concat(chunks).toString())));
          res.writeHead(r.status, { "retry-after": r.headers.get("retry-after") ?? "" });
          res.end(await r.text());
        })();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/auth/login`, close: () => new Promise((r) => server.close(() => r())) };
  }
  const attempt = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  it("ignores forged X-Forwarded-For without a configured proxy: 25 wrong logins from one socket get 429", async () => {
    const s = await loginServer([]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) {
        const forged = { "x-forwarded-for": `198.51.100.${i}`, "x-real-ip": `203.0.113.${i}`, [CLIENT_ADDRESS_HEADER]: `192.0.2.${i}` };
        statuses.push((await attempt(s.url, { username: `forged-xff-${i}`, password: "wrong-password" }, forged)).status);
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses).toContain(429);
    } finally {
      await s.close();
    }
  });

  it("believes X-Forwarded-For only from a configured proxy", async () => {
    const s = await loginServer(["127.0.0.1"]);
    try {
      // Behind the proxy each client address is its own: 6 attempts, each from another client, are never throttled as one.
      for (let i = 0; i < 6; i++) expect((await attempt(s.url, { username: "proxied", password: "wrong-password" }, { "x-forwarded-for": `198.51.100.${i}` })).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it("does not let a stranger's failed logins block the real user at another address", async () => {
    await createUser(db, { username: "real-admin", password: PW, role: "admin" });
    const stranger = { [CLIENT_ADDRESS_HEADER]: "10.66.66.66" };
    for (let i = 0; i < 21; i++) await respond(() => login(db, post("/api/auth/login", {}, stranger), { username: `random-${i}-${Math.random()}`, password: "wrong-password" }));
    for (let i = 0; i < 6; i++) await respond(() => login(db, post("/api/auth/login", {}, stranger), { username: "real-admin", password: "wrong-password" }));
    const slowed = await respond(() => login(db, post("/api/auth/login", {}, stranger), { username: "real-admin", password: "wrong-password" }));
    expect(slowed.status).toBe(429);
    // Growing delays, not a 15-minute lock: the stranger waits seconds to minutes, and only at their own address.
    expect(Number(slowed.headers.get("retry-after"))).toBeLessThan(900);
    const real = await respond(() => login(db, post("/api/auth/login", {}, { [CLIENT_ADDRESS_HEADER]: "10.1.1.1" }), { username: "real-admin", password: PW }));
    expect(real.status).toBe(200);
  });
});

describe("proxy.ts gate", () => {
  let proxy: (req: NextRequest) => Promise<Response>;
  let viewerCookie = "";
  let adminCookie = "";

  beforeAll(async () => {
    proxy = (await import("../../proxy")).proxy;
    const ip = { [CLIENT_ADDRESS_HEADER]: "10.7.7.7" };
    viewerCookie = cookieOf(await login(db, post("/api/auth/login", {}, ip), { username: "vera", password: PW }));
    adminCookie = cookieOf(await login(db, post("/api/auth/login", {}, ip), { username: "root", password: PW }));
  });

  const req = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
    new NextRequest(BASE + path, { method: init.method ?? "GET", headers: { host: "127.0.0.1:3999", ...(init.headers ?? {}) } });
  const passes = (r: Response) => r.headers.get("x-middleware-next") === "1";

  it("answers 401 JSON for APIs, the live stream and /metrics, and redirects pages to /login with next", async () => {
    for (const p of ["/api/runs", "/api/live", "/api/runs/x/live", "/metrics"]) {
      const r = await proxy(req(p));
      expect(r.status, p).toBe(401);
      expect((await r.json()).error).toMatch(/sign in first/);
    }
    const page = await proxy(req("/runs/abc?step=2"));
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toBe(`${BASE}/login?next=%2Fruns%2Fabc%3Fstep%3D2`);
    expect(passes(await proxy(req("/login")))).toBe(true);
    expect(passes(await proxy(req("/api/health")))).toBe(true);
  });

  it("lets a viewer read, refuses a viewer's write with 403 naming the role, and lets an admin in", async () => {
    expect(passes(await proxy(req("/api/runs", { headers: { cookie: viewerCookie } })))).toBe(true);
    const w = await proxy(req("/api/alert-rules", { method: "PUT", headers: { cookie: viewerCookie, origin: BASE } }));
    expect(w.status).toBe(403);
    expect((await w.json()).error).toBe("this needs the editor role; vera is viewer");
    const a = await proxy(req("/api/admin/users", { headers: { cookie: viewerCookie } }));
    expect(a.status).toBe(403);
    expect(passes(await proxy(req("/api/admin/users", { headers: { cookie: adminCookie } })))).toBe(true);
    expect(passes(await proxy(req("/api/alert-rules", { method: "PUT", headers: { cookie: adminCookie, origin: BASE } })))).toBe(true);
  });

  it("refuses a URL with a NUL character before any route sees it", async () => {
    for (const p of ["/api/runs/abc%00def", "/runs/x%00/oom/1", "/api/compare?runs=a%00b"]) {
      const r = await proxy(req(p, { headers: { cookie: adminCookie } }));
      expect({ p, status: r.status }).toEqual({ p, status: 400 });
      expect((await r.json()).error).toMatch(/NUL character/);
    }
    expect(passes(await proxy(req("/api/runs/abc", { headers: { cookie: adminCookie } })))).toBe(true);
  });

  it("refuses a cross-origin write even with a valid admin session", async () => {
    const r = await proxy(req("/api/alert-rules", { method: "PUT", headers: { cookie: adminCookie, origin: "https://evil.example" } }));
    expect(r.status).toBe(403);
    expect((await r.json()).error).toMatch(/cross-origin request refused/);
  });

  it("opens /metrics (and nothing else) to the METRICS_TOKEN bearer", async () => {
    process.env.METRICS_TOKEN = "scrape-token-0123456789";
    try {
      const bearer = { authorization: "Bearer scrape-token-0123456789" };
      expect(passes(await proxy(req("/metrics", { headers: bearer })))).toBe(true);
      expect((await proxy(req("/api/runs", { headers: bearer }))).status).toBe(401);
      expect((await proxy(req("/metrics", { headers: { authorization: "Bearer wrong-token-0123456789" } }))).status).toBe(401);
    } finally {
      delete process.env.METRICS_TOKEN;
    }
  });

  it("lets everything through with DASHBOARD_AUTH=off", async () => {
    process.env.DASHBOARD_AUTH = "off";
    try {
      expect(passes(await proxy(req("/api/runs")))).toBe(true);
    } finally {
      delete process.env.DASHBOARD_AUTH;
    }
  });
});
