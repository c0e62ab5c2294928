import { handle, json, requireRole } from "@/lib/web/http/http";
import { revokeIngestToken } from "@/lib/store/ingestTokens";
import { getDb } from "@/lib/web/data/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** DELETE /api/admin/tokens/{tokenId}: revokes the token (it stays listed as revoked) (admin). */
export async function DELETE(req: Request, ctx: { params: Promise<{ tokenId: string }> }): Promise<Response> {
  return handle(async () => {
    await requireRole(req, "admin");
    const { tokenId } = await ctx.params;
    return json(await revokeIngestToken(await getDb(), tokenId));
  });
}
