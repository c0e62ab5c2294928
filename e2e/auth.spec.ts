import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { E2E_USERS } from "./global-setup";
import { freePort, startCli, waitForOutput } from "./processes";

/** Every test here starts signed out (the config's storageState is the admin's). */
test.use({ storageState: { cookies: [], origins: [] } });

async function shoot(page: Page, name: string): Promise<void> {
  fs.mkdirSync("test-results/screenshots", { recursive: true });
  await page.emulateMedia({ colorScheme: "light" });
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: `test-results/screenshots/${name}-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
}

async function signIn(page: Page, who: { username: string; password: string }, next = "/"): Promise<void> {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Username").fill(who.username);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("user-name")).toHaveText(who.username);
}

async function newPage(browser: Browser, baseURL: string | undefined): Promise<Page> {
  const ctx = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  return ctx.newPage();
}

/** withOwnServer runs `fn` against a second `serve` on an empty database with `env`, and stops it after. */
async function withOwnServer(env: Record<string, string>, fn: (baseURL: string, output: () => string) => Promise<void>): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moe-e2e-own-"));
  const port = await freePort();
  const server = startCli(
    ["serve", "--port", String(port), "--collector-port", String(await freePort()), "--collector-host", "127.0.0.1", "--database", `file:${path.join(tmp, "own.db")}`],
    { INGEST_AUTH: "off", ...env },
  );
  try {
    await waitForOutput(server, "dashboard listening on", 120_000);
    await fn(`http://127.0.0.1:${port}`, server.output);
  } finally {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test("signed out: a page leads to /login, the API and the live stream answer 401", async ({ page, request }) => {
  await page.goto("/alerts?rules");
  await expect(page).toHaveURL(/\/login\?next=%2Falerts%3Frules(%3D)?$/);
  await expect(page.getByTestId("login-page")).toBeVisible();
  // No navigation, no alerts indicator for a signed-out visitor.
  await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);
  await shoot(page, "login");

  for (const path of ["/api/runs", "/api/alert-rules", "/metrics", "/api/admin/users"]) {
    const res = await request.get(path);
    expect(res.status(), path).toBe(401);
    expect((await res.json()).error).toMatch(/sign in first/);
  }
  const sse = await request.get("/api/live", { headers: { accept: "text/event-stream" } });
  expect(sse.status()).toBe(401);
  expect(sse.headers()["content-type"]).toMatch(/application\/json/);
  expect((await request.get("/api/health")).ok()).toBe(true);
});

test("a wrong password fails with a clear message; the right one signs in and returns to the page asked for", async ({ page }) => {
  await page.goto("/login?next=%2Falerts%3Frules");
  await page.getByLabel("Username").fill(E2E_USERS.admin.username);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("login-error")).toHaveText("wrong username or password (or the account is disabled)");
  await expect(page).toHaveURL(/\/login/);
  await shoot(page, "login-error");

  await page.getByLabel("Password").fill(E2E_USERS.admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/alerts\?rules=?$/);
  await expect(page.getByTestId("user-role")).toHaveText("admin");
  await expect(page.getByTestId("global-alert-rules").getByTestId("rules-save")).toBeEnabled();
});

test("a viewer sees the alert rules read-only, cannot import, and gets 403 from the API", async ({ page }) => {
  await signIn(page, E2E_USERS.viewer, "/alerts?rules");
  const editor = page.getByTestId("global-alert-rules").getByTestId("alert-rules-editor");
  await expect(editor.getByTestId("rules-read-only")).toContainText("needs the editor role");
  await expect(editor.getByTestId("rules-save")).toHaveCount(0);
  await expect(editor.getByTestId("rule-maxvio-high-forMs")).toBeDisabled();
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);

  // The server refuses too, whatever the UI shows: same session, straight to the API.
  const put = await page.request.put("/api/alert-rules", { data: {} });
  expect(put.status()).toBe(403);
  expect((await put.json()).error).toBe(`this needs the editor role; ${E2E_USERS.viewer.username} is viewer`);
  const admin = await page.request.get("/api/admin/users");
  expect(admin.status()).toBe(403);
  // Reading is fine.
  expect((await page.request.get("/api/alert-rules")).ok()).toBe(true);

  await page.goto("/import");
  await expect(page.getByTestId("import-read-only")).toBeVisible();
  await expect(page.getByTestId("import-form")).toHaveCount(0);
  await page.goto("/admin/users");
  await expect(page.getByTestId("needs-admin")).toBeVisible();
});

test("a cross-origin write is refused even with an admin session", async ({ page }) => {
  await signIn(page, E2E_USERS.admin);
  const res = await page.request.put("/api/alert-rules", { data: {}, headers: { origin: "https://evil.example" } });
  expect(res.status()).toBe(403);
  expect((await res.json()).error).toMatch(/cross-origin request refused: Origin https:\/\/evil.example/);
  const site = await page.request.post("/api/import", { headers: { "sec-fetch-site": "cross-site" }, multipart: { kind: "megatron-log" } });
  expect(site.status()).toBe(403);
  // The same write from the dashboard's own origin passes the check (and the body is then validated).
  const same = await page.request.put("/api/alert-rules", { data: { "maxvio-high": { threshold: "x" } }, headers: { origin: new URL(page.url()).origin } });
  expect(same.status()).toBe(400);
});

test("signing out ends the session: the old cookie no longer works", async ({ page, playwright, baseURL }) => {
  await signIn(page, E2E_USERS.admin);
  const cookie = (await page.context().cookies()).find((c) => c.name === "moe_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");
  const replay = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { cookie: `moe_session=${cookie!.value}` } });
  expect((await replay.get("/api/runs")).status()).toBe(200);

  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login/);
  expect((await replay.get("/api/runs")).status()).toBe(401);
  await replay.dispose();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
});

test("an admin manages users and ingest tokens", async ({ page, browser, baseURL }) => {
  await signIn(page, E2E_USERS.admin, "/admin/users");
  await expect(page.getByTestId("users-page")).toBeVisible();
  const name = `e2e-ed-${Date.now().toString(36)}`;
  const form = page.getByTestId("create-user-form");
  await form.getByLabel("Username").fill(name);
  await form.getByLabel(/Password/).fill("an-editor-password");
  await form.getByLabel("Role").selectOption("editor");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByTestId(`user-row-${name}`)).toContainText("active");

  // The new editor signs in elsewhere; demoting them applies to their very next request.
  const other = await newPage(browser, baseURL);
  await signIn(other, { username: name, password: "an-editor-password" });
  expect((await other.request.put("/api/alert-rules", { data: {} })).status()).toBe(200);
  await page.getByLabel(`role of ${name}`).selectOption("viewer");
  await expect(page.getByTestId("users-notice")).toContainText(`${name} is now viewer`);
  expect((await other.request.put("/api/alert-rules", { data: {} })).status()).toBe(403);
  await page.getByTestId(`user-row-${name}`).getByRole("button", { name: "Disable" }).click();
  await expect(page.getByTestId(`user-row-${name}`)).toContainText("disabled");
  expect((await other.request.get("/api/runs")).status()).toBe(401);
  await other.context().close();
  await shoot(page, "admin-users");

  await page.goto("/admin/tokens");
  await expect(page.getByTestId("ingest-auth-off")).toBeVisible();
  const tf = page.getByTestId("create-token-form");
  await tf.getByLabel(/Project/).fill("e2e-project");
  await tf.getByLabel(/Token name/).fill("e2e-token");
  await tf.getByRole("button", { name: "Create token" }).click();
  const secret = page.getByTestId("token-secret");
  await expect(secret).toHaveText(/^moe_[A-Za-z0-9_-]{43}$/);
  const prefix = (await secret.textContent())!.slice(0, 12);
  const row = page.getByTestId("token-row").filter({ hasText: "e2e-token" });
  await expect(row).toContainText(`${prefix}…`);
  await expect(row).toContainText("active");
  await shoot(page, "admin-tokens");
  page.once("dialog", (d) => void d.accept());
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(row).toContainText("revoked");
});

test("first start: every page leads to /setup, which needs the code the server printed", async ({ browser }) => {
  // A second server on an empty database, without the bootstrap environment the shared one uses.
  await withOwnServer({ DASHBOARD_AUTH: "on", MOE_ADMIN_USER: "", MOE_ADMIN_PASSWORD: "" }, async (baseURL, output) => {
    const code = /enter the setup code ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/.exec(output())?.[1];
    expect(code, output().slice(-2000)).toBeTruthy();
    const page = await newPage(browser, baseURL);
    await page.goto("/alerts");
    await expect(page).toHaveURL(/\/setup$/);
    await page.goto("/login");
    await expect(page).toHaveURL(/\/setup$/);
    await shoot(page, "setup");

    const form = page.getByTestId("setup-form");
    await form.getByLabel(/Setup code/).fill("AAAA-BBBB-CCCC");
    await form.getByLabel("Admin username").fill("first-admin");
    await form.getByLabel(/^Password \(/).fill("first-admin-password");
    await form.getByLabel("Password again").fill("first-admin-password");
    await form.getByRole("button", { name: /Create admin/ }).click();
    await expect(page.getByTestId("setup-error")).toContainText("wrong setup code");

    await form.getByLabel(/Setup code/).fill(code!.toLowerCase());
    await form.getByRole("button", { name: /Create admin/ }).click();
    await expect(page.getByTestId("user-name")).toHaveText("first-admin");
    await expect(page.getByTestId("user-role")).toHaveText("admin");
    // Once an admin exists, /setup is closed.
    await page.goto("/setup");
    await expect(page).not.toHaveURL(/\/setup/);
    const again = await page.request.post("/api/auth/setup", { data: { code, username: "intruder", password: "intruder-password" } });
    expect(again.status()).toBe(409);
    await page.context().close();
  });
});

test("DASHBOARD_AUTH=off: no login, and every page says so", async ({ browser }) => {
  await withOwnServer({ DASHBOARD_AUTH: "off" }, async (baseURL) => {
    const page = await newPage(browser, baseURL);
    for (const p of ["/", "/alerts", "/admin/tokens"]) {
      await page.goto(p);
      await expect(page).toHaveURL(new RegExp(`${p.replace(/\//g, "\\/")}$`));
      await expect(page.getByTestId("login-off-banner")).toContainText("Login is off (DASHBOARD_AUTH=off)");
    }
    await expect(page.getByTestId("user-menu")).toHaveCount(0);
    expect((await page.request.get("/api/runs")).status()).toBe(200);
    await page.goto("/login");
    await expect(page).toHaveURL(/\/$/);
    await shoot(page, "login-off");
    await page.context().close();
  });
});
