/**
 * Route-handler helpers: query parsing with zod and the one mapping from the error hierarchy to
 * HTTP status codes.
 */
import { internalErrorId, internalErrorMessage } from "../../runtime/internalError";
import { z } from "zod";
import { Conflict, InvalidInput, NotFound, Unavailable, MoeTelemetryError } from "../../analysis/errors";
import { Forbidden, TooManyAttempts, Unauthenticated } from "../../analysis/errors";
import { assertRole, authFromCookie } from "../auth/request";
import type { Role } from "../auth/roles";
import type { SessionUser } from "../auth/sessions";
import { getDb } from "../data/webDb";

/** json returns a JSON response that is never cached (the data is live). */
export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

/** errorResponse maps a thrown value to an HTTP error with a JSON body naming the problem. */
export function errorResponse(err: unknown): Response {
  const message = err instanceof Error ? err.message : String(err);
  const field = err instanceof InvalidInput || err instanceof NotFound ? err.field : undefined;
  const status =
    err instanceof InvalidInput
      ? 400
      : err instanceof Unauthenticated
        ? 401
        : err instanceof Forbidden
          ? 403
          : err instanceof NotFound
            ? 404
            : err instanceof Conflict
              ? 409
              : err instanceof TooManyAttempts
                ? 429
                : err instanceof Unavailable
                  ? 503
                  : 500;
  // An unexpected error's message is not the caller's to see: logged under an id, answered with the id.
  const error = status === 500 ? internalErrorMessage(internalErrorId(err)) : message;
  const res = json({ error, ...(field ? { field } : {}) }, status);
  if (err instanceof TooManyAttempts) res.headers.set("retry-after", String(err.retryAfterS));
  return res;
}

/**
 * requireRole: the signed-in user of a route handler's request, or 401/403 (thrown, for handle()).
 * proxy.ts already checked the same table; handlers of mutations repeat it so that no write path
 * depends on the proxy's matcher alone.
 */
export async function requireRole(req: Request, role: Role): Promise<SessionUser> {
  return assertRole(await authFromCookie(getDb, req.headers.get("cookie")), role);
}

/** handle runs a route body and turns thrown errors into responses. */
export async function handle(body: () => Promise<Response>): Promise<Response> {
  try {
    return await body();
  } catch (err) {
    return errorResponse(err);
  }
}

/** parseQuery validates URL search parameters against a zod schema, naming each bad parameter. */
export function parseQuery<T extends z.ZodType>(url: string, schema: T): z.infer<T> {
  const params = Object.fromEntries(new URL(url).searchParams.entries());
  const r = schema.safeParse(params);
  if (!r.success) {
    const issue = r.error.issues[0];
    const name = issue.path.join(".");
    throw new InvalidInput(`query parameter ${name}: ${issue.message}`, name);
  }
  return r.data;
}

// The shared query parameters live with the route registry; re-exported for the handlers that build their own.
export { layersParam, stepParam } from "./apiRoutes";

/** notFound throws NotFound for an unknown run id. */
export function runNotFound(runId: string): never {
  throw new NotFound(`run ${runId} does not exist`, "runId");
}

/** sseResponse streams Server-Sent Events: `poll` is called every `intervalMs` and its value is sent when it changes. */
export function sseResponse<T>(req: Request, poll: () => Promise<{ key: string; data: T } | null>, intervalMs = 250): Response {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let last = "";
      let sinceBeat = 0;
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      send("retry: 1000\n\n");
      const tick = async () => {
        if (closed) return;
        try {
          const r = await poll();
          if (r === null) {
            send(`event: gone\ndata: {}\n\n`);
            closed = true;
            controller.close();
            return;
          }
          if (r.key !== last) {
            last = r.key;
            sinceBeat = 0;
            send(`event: update\ndata: ${JSON.stringify(r.data)}\n\n`);
          } else if ((sinceBeat += intervalMs) >= 15_000) {
            sinceBeat = 0;
            send(`: keep-alive\n\n`);
          }
        } catch (err) {
          const error = err instanceof MoeTelemetryError ? err.message : internalErrorMessage(internalErrorId(err));
          send(`event: error\ndata: ${JSON.stringify({ error })}\n\n`);
        }
        // Non-overlapping: the next poll is scheduled only after this one finished.
        if (!closed) timer = setTimeout(() => void tick(), intervalMs);
      };
      void tick();
      req.signal.addEventListener("abort", () => {
        closed = true;
        if (timer) clearTimeout(timer);
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
    },
    cancel() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store, no-transform", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}

/** RouteContext: what Next passes a route handler under app/api/runs/[runId]/. */
export interface RunRouteContext {
  params: Promise<{ runId: string }>;
}

/**
 * runRoute builds a GET handler for a run-scoped resource: it parses the query with `query`, calls
 * `load`, and answers 404 naming the run (or `notFound`'s message) when `load` returns null.
 */
export function runRoute<Q extends z.ZodType>(
  query: Q,
  load: (runId: string, q: z.infer<Q>) => Promise<unknown | null>,
  notFound?: (runId: string, q: z.infer<Q>) => NotFound,
): (req: Request, ctx: RunRouteContext) => Promise<Response> {
  return (req, ctx) =>
    handle(async () => {
      const { runId } = await ctx.params;
      const q = parseQuery(req.url, query);
      const body = await load(runId, q);
      if (body === null) throw notFound ? notFound(runId, q) : new NotFound(`run ${runId} does not exist`, "runId");
      return json(body);
    });
}

/** noQuery is the query schema of routes that take no parameters. */
export const noQuery = z.object({});
