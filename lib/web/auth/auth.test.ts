import { describe, expect, it } from "vitest";
import { checkOrigin, expectedOrigins } from "./origin";
import { isPublicPath, requiredRole } from "./policy";
import { roleAtLeast } from "./roles";
import { BASE_DELAY_MS, FORGET_AFTER_MS, FREE_FAILURES_PER_ADDRESS, FREE_FAILURES_PER_PAIR, LoginThrottle, MAX_DELAY_MS } from "./throttle";
import { CLIENT_ADDRESS_HEADER, trustedProxies, trustForwarding, type Incoming } from "./forwarding";
import { isSecureRequest, readCookie, sessionCookie } from "./cookies";
import { dashboardAuthMode } from "./config";
import { isMetricsScrape } from "./request";
import { hashPassword, validatePassword, verifyPassword } from "./password";
import { safeNext } from "../../ui/safeNext";

const h = (o: Record<string, string>) => new Headers(o);

describe("roles", () => {
  it("orders viewer < editor < admin", () => {
    expect(roleAtLeast("admin", "editor")).toBe(true);
    expect(roleAtLeast("editor", "editor")).toBe(true);
    expect(roleAtLeast("viewer", "editor")).toBe(false);
    expect(roleAtLeast("editor", "admin")).toBe(false);
  });

  it("requires editor for writes, admin for user and token management, viewer for reads", () => {
    expect(requiredRole("GET", "/api/runs")).toBe("viewer");
    expect(requiredRole("PUT", "/api/alert-rules")).toBe("editor");
    expect(requiredRole("POST", "/api/import")).toBe("editor");
    expect(requiredRole("POST", "/api/some-future-route")).toBe("editor");
    expect(requiredRole("POST", "/api/config/check")).toBe("viewer");
    expect(requiredRole("GET", "/api/admin/users")).toBe("admin");
    expect(requiredRole("DELETE", "/api/admin/tokens/x")).toBe("admin");
    expect(requiredRole("GET", "/admin/tokens")).toBe("admin");
  });

  it("leaves only login, setup, health, auth endpoints and build assets public", () => {
    for (const p of ["/login", "/setup", "/api/health", "/api/auth/login", "/_next/static/x.js"]) expect(isPublicPath(p)).toBe(true);
    for (const p of ["/", "/runs/x", "/api/runs", "/api/live", "/metrics", "/api/admin/users", "/loginx", "/api/healthz"]) expect(isPublicPath(p)).toBe(false);
  });
});

describe("origin check", () => {
  const url = "http://127.0.0.1:3000/api/alert-rules";
  it("lets same-origin and safe requests through", () => {
    expect(checkOrigin("PUT", url, h({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" })).ok).toBe(true);
    expect(checkOrigin("GET", url, h({ host: "127.0.0.1:3000", origin: "https://evil.example" })).ok).toBe(true);
    expect(checkOrigin("POST", url, h({ host: "127.0.0.1:3000", "sec-fetch-site": "same-origin" })).ok).toBe(true);
  });

  it("refuses another origin, a null origin and cross-site fetch metadata, saying why", () => {
    const bad = checkOrigin("PUT", url, h({ host: "127.0.0.1:3000", origin: "https://evil.example" }));
    expect(bad).toEqual({ ok: false, reason: expect.stringContaining("Origin https://evil.example is not this dashboard") });
    expect(checkOrigin("POST", url, h({ host: "127.0.0.1:3000", origin: "null" })).ok).toBe(false);
    expect(checkOrigin("DELETE", url, h({ host: "127.0.0.1:3000", "sec-fetch-site": "cross-site" })).ok).toBe(false);
    expect(checkOrigin("POST", url, h({ host: "127.0.0.1:3000", "sec-fetch-site": "same-site" })).ok).toBe(false);
    // Same host, other port or scheme: another origin.
    expect(checkOrigin("POST", url, h({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3001" })).ok).toBe(false);
  });

  it("accepts the public origin behind a TLS proxy (forwarded headers or DASHBOARD_URL)", () => {
    const fwd = h({ host: "127.0.0.1:3000", "x-forwarded-proto": "https", "x-forwarded-host": "moe.lab.example", origin: "https://moe.lab.example" });
    expect(checkOrigin("POST", url, fwd).ok).toBe(true);
    expect(expectedOrigins(url, h({ host: "127.0.0.1:3000" }), "https://dash.lab.example/x").has("https://dash.lab.example")).toBe(true);
    expect(checkOrigin("POST", url, h({ host: "127.0.0.1:3000", origin: "https://dash.lab.example" }), "https://dash.lab.example").ok).toBe(true);
  });
});

describe("login throttle", () => {
  it("slows a (username, address) pair with doubling delays after its free failures, and a success resets it", () => {
    let now = 1_000_000;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < FREE_FAILURES_PER_PAIR; i++) {
      expect(t.retryAfterMs("alice", "10.0.0.1")).toBe(0);
      t.fail("alice", "10.0.0.1");
    }
    expect(t.retryAfterMs("alice", "10.0.0.1")).toBe(BASE_DELAY_MS);
    now += BASE_DELAY_MS;
    t.fail("alice", "10.0.0.1");
    expect(t.retryAfterMs("alice", "10.0.0.1")).toBe(2 * BASE_DELAY_MS);
    // Another address, or another name from this one, is not slowed by the pair.
    expect(t.retryAfterMs("alice", "10.0.0.2")).toBe(0);
    expect(t.retryAfterMs("bob", "10.0.0.1")).toBe(0);
    t.succeed("alice", "10.0.0.1");
    expect(t.retryAfterMs("alice", "10.0.0.1")).toBe(0);
  });

  it("never lets a stranger's failures delay the real user at another address (issue 18.3)", () => {
    let now = 1_000_000;
    const t = new LoginThrottle(() => now);
    // The stranger: many random names and many wrong passwords for the admin's name, from one address.
    for (let i = 0; i < 200; i++) {
      t.fail(i % 2 ? `random-${i}` : "root", "10.6.6.6");
      now += 10;
    }
    expect(t.retryAfterMs("root", "10.0.0.1")).toBe(0);
    expect(t.retryAfterMs("anyone", "10.0.0.1")).toBe(0);
    // The stranger's own address is the one slowed, up to the cap, and forgotten once it stops failing.
    expect(t.retryAfterMs("someone-else", "10.6.6.6")).toBeGreaterThan(0);
    expect(t.retryAfterMs("someone-else", "10.6.6.6")).toBeLessThanOrEqual(MAX_DELAY_MS);
    now += FORGET_AFTER_MS + 1;
    expect(t.retryAfterMs("root", "10.6.6.6")).toBe(0);
  });

  it("slows an address guessing many names after its free allowance", () => {
    const now = 1_000_000;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < FREE_FAILURES_PER_ADDRESS; i++) t.fail(`n${i}`, "10.0.0.9");
    expect(t.retryAfterMs("fresh-name", "10.0.0.9")).toBe(BASE_DELAY_MS);
  });
});

describe("forwarding headers (issue 18.2)", () => {
  const incoming = (peer: string, headers: Record<string, string>): Incoming => ({ headers: { ...headers }, socket: { remoteAddress: peer } });
  const forged = { "x-forwarded-for": "1.2.3.4", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https", "x-real-ip": "5.6.7.8", [CLIENT_ADDRESS_HEADER]: "9.9.9.9" };

  it("drops every forwarding header and uses the socket address when no proxy is configured", () => {
    const req = incoming("::ffff:10.1.2.3", forged);
    expect(trustForwarding(req, trustedProxies([]))).toBe("10.1.2.3");
    expect(req.headers).toEqual({ [CLIENT_ADDRESS_HEADER]: "10.1.2.3" });
  });

  it("drops them from a peer that is not a configured proxy", () => {
    const req = incoming("10.1.2.3", forged);
    expect(trustForwarding(req, trustedProxies(["10.0.0.5", "192.168.0.0/16"]))).toBe("10.1.2.3");
    expect(req.headers["x-forwarded-host"]).toBeUndefined();
  });

  it("believes a trusted proxy, taking the nearest hop that is not itself a proxy", () => {
    const req = incoming("10.0.0.5", { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 192.168.1.1", "x-forwarded-host": "moe.lab.example", "x-forwarded-proto": "https" });
    expect(trustForwarding(req, trustedProxies(["10.0.0.5", "192.168.0.0/16"]))).toBe("203.0.113.7");
    expect(req.headers["x-forwarded-host"]).toBe("moe.lab.example");
    expect(req.headers[CLIENT_ADDRESS_HEADER]).toBe("203.0.113.7");
  });

  it("so the CSRF check no longer believes a client's own X-Forwarded-Host", () => {
    const req = incoming("10.1.2.3", { host: "127.0.0.1:3000", origin: "https://evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
    trustForwarding(req, trustedProxies([]));
    expect(checkOrigin("POST", "http://127.0.0.1:3000/api/alert-rules", new Headers(req.headers as Record<string, string>)).ok).toBe(false);
  });
});

describe("cookies and settings", () => {
  it("reads the session cookie among others", () => {
    expect(readCookie("a=1; moe_session=abc; b=2")).toBe("abc");
    expect(readCookie("a=1")).toBeNull();
    expect(readCookie(null)).toBeNull();
  });

  it("is HttpOnly and SameSite=Lax, Secure only over https or behind a TLS proxy", () => {
    const c = sessionCookie("s", Date.now() + 60_000, false);
    expect(c).toMatch(/HttpOnly/);
    expect(c).toMatch(/SameSite=Lax/);
    expect(c).not.toMatch(/Secure/);
    expect(sessionCookie("s", Date.now() + 60_000, true)).toMatch(/; Secure$/);
    expect(isSecureRequest("http://x/", h({}), {})).toBe(false);
    expect(isSecureRequest("https://x/", h({}), {})).toBe(true);
    expect(isSecureRequest("http://x/", h({ "x-forwarded-proto": "https" }), {})).toBe(true);
    expect(isSecureRequest("https://x/", h({}), { COOKIE_SECURE: "off" })).toBe(false);
    expect(isSecureRequest("http://x/", h({}), { COOKIE_SECURE: "on" })).toBe(true);
  });

  it("reads DASHBOARD_AUTH strictly", () => {
    expect(dashboardAuthMode({})).toBe("on");
    expect(dashboardAuthMode({ DASHBOARD_AUTH: "off" })).toBe("off");
    expect(() => dashboardAuthMode({ DASHBOARD_AUTH: "of" })).toThrow(/DASHBOARD_AUTH must be "on" or "off"/);
  });

  it("follows only local paths after login", () => {
    expect(safeNext("/runs/abc?step=3")).toBe("/runs/abc?step=3");
    for (const bad of ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/login?next=/x", undefined]) expect(safeNext(bad)).toBe("/");
  });

  it.each([
    ["tab", "/\t/evil.example/steal"],
    ["LF", "/\n/evil.example/steal"],
    ["CR", "/\r/evil.example/steal"],
    ["backslash after slash", "/\\/evil.example/steal"],
    ["tab inside the double slash", "/\t\t/evil.example"],
    ["encoded-then-decoded tab, as searchParams hands it over", decodeURIComponent("%2F%09%2Fevil.example%2Fsteal")],
    ["a path that resolves up and out", "/..//evil.example"],
    ["login after dot segments", "/x/../login"],
  ])("refuses an open redirect through %s", (_name, next) => {
    expect(safeNext(next)).toBe("/");
    // And whatever it returns, the browser lands on this dashboard.
    expect(new URL(safeNext(next), "http://dash.test").origin).toBe("http://dash.test");
  });
});

describe("password hashing", () => {
  it("hashes with argon2id, verifies the right password only, and salts every hash", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).toMatch(/^\$argon2id\$v=19\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, "correct horse battery")).toBe(true);
    expect(await verifyPassword(a, "correct horse batterY")).toBe(false);
    expect(await verifyPassword("not a hash", "x")).toBe(false);
  });

  it("rejects short passwords naming the minimum", () => {
    expect(() => validatePassword("short")).toThrow(/at least 10 characters/);
  });
});

describe("metrics scrape token", () => {
  const env = { METRICS_TOKEN: "scrape-token-0123456789" };
  it("lets /metrics in with the exact bearer token only", () => {
    expect(isMetricsScrape("/metrics", "Bearer scrape-token-0123456789", env)).toBe(true);
    expect(isMetricsScrape("/metrics", "Bearer scrape-token-012345678", env)).toBe(false);
    expect(isMetricsScrape("/api/runs", "Bearer scrape-token-0123456789", env)).toBe(false);
    expect(isMetricsScrape("/metrics", "Bearer scrape-token-0123456789", {})).toBe(false);
    expect(() => isMetricsScrape("/metrics", "Bearer x", { METRICS_TOKEN: "short" })).toThrow(/at least 16/);
  });
});
