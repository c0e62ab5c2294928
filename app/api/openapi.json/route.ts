import { OPENAPI_DOCUMENT } from "@/lib/web/http/openapi";

export const dynamic = "force-static";

/** GET /api/openapi.json: the OpenAPI description of this API. */
export function GET(): Response {
  return Response.json(OPENAPI_DOCUMENT);
}
