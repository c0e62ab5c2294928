import { handle, json } from "@/lib/web/http/http";
import { listRuns } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs: every run, newest first. */
export async function GET(): Promise<Response> {
  return handle(async () => json(await listRuns()));
}
