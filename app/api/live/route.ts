import { sseResponse } from "@/lib/web/http/http";
import { getGlobalVersion } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/live: Server-Sent Events, `update` with {version} whenever any run changes. */
export async function GET(req: Request): Promise<Response> {
  return sseResponse(req, async () => {
    const version = await getGlobalVersion();
    return { key: version, data: { version } };
  }, 500);
}
