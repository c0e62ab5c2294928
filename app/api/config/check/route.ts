import { InvalidInput } from "@/lib/analysis/errors";
import { checkMegatronConfig } from "@/lib/analysis/checkMegatronConfig";
import { handle, json } from "@/lib/web/http/http";
import { readJsonBody } from "@/lib/web/http/readJsonBody";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** POST /api/config/check: a pasted Megatron launch line (or argv array) -> config, derived sizes, layers, violations. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => {
    const r = apiRoute("POST /api/config/check").body.safeParse(await readJsonBody(req));
    if (!r.success) {
      const i = r.error.issues[0];
      throw new InvalidInput(`${i.path.join(".") || "body"}: ${i.message}`, i.path.join(".") || "body");
    }
    return json(checkMegatronConfig(r.data.commandLine, { worldSize: r.data.worldSize, gpusPerNode: r.data.gpusPerNode }));
  });
}
