import { z } from "zod";
import { InvalidInput } from "@/lib/analysis/errors";
import { checkMegatronConfig } from "@/lib/analysis/checkMegatronConfig";
import { handle, json } from "@/lib/web/http/http";
import { readJsonBody } from "@/lib/web/http/readJsonBody";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Body = z.object({
  commandLine: z.union([z.string().min(1).max(200_000), z.array(z.string().max(10_000)).min(1).max(10_000)]),
  worldSize: z.number().int().positive().optional(),
  gpusPerNode: z.number().int().positive().optional(),
});

/** POST /api/config/check: a pasted Megatron launch line (or argv array) -> config, derived sizes, layers, violations. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => {
    const r = Body.safeParse(await readJsonBody(req));
    if (!r.success) {
      const i = r.error.issues[0];
      throw new InvalidInput(`${i.path.join(".") || "body"}: ${i.message}`, i.path.join(".") || "body");
    }
    return json(checkMegatronConfig(r.data.commandLine, { worldSize: r.data.worldSize, gpusPerNode: r.data.gpusPerNode }));
  });
}
