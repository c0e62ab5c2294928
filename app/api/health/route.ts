import { getDb } from "@/lib/web/data/webDb";
import { handle, json } from "@/lib/web/http/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/health: 200 when the database answers. */
export async function GET(): Promise<Response> {
  return handle(async () => {
    const db = await getDb();
    await db.prisma.$queryRawUnsafe("SELECT 1");
    return json({ status: "ok", database: db.target.dialect });
  });
}
