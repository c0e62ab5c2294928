import { InvalidInput } from "@/lib/analysis/errors";
import { handle, json, requireRole } from "@/lib/web/http/http";
import { parseBody } from "@/lib/web/auth/body";
import { resetPassword, setDisabled, setRole, type UserInfo } from "@/lib/web/auth/users";
import { readJsonBody } from "@/lib/web/http/readJsonBody";
import { getDb } from "@/lib/web/data/webDb";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** PATCH /api/admin/users/{username} {role?, disabled?, password?}: change role, disable/enable, reset password (admin). */
export async function PATCH(req: Request, ctx: { params: Promise<{ username: string }> }): Promise<Response> {
  return handle(async () => {
    await requireRole(req, "admin");
    const { username } = await ctx.params;
    const body = parseBody(apiRoute("PATCH /api/admin/users/{username}").body, await readJsonBody(req));
    if (body.role === undefined && body.disabled === undefined && body.password === undefined) {
      throw new InvalidInput("nothing to change: send role, disabled or password", "body");
    }
    const db = await getDb();
    let user: UserInfo | null = null;
    if (body.password !== undefined) user = await resetPassword(db, username, body.password);
    if (body.role !== undefined) user = await setRole(db, username, body.role);
    if (body.disabled !== undefined) user = await setDisabled(db, username, body.disabled);
    return json(user);
  });
}
