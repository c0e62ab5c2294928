/**
 * Reads a JSON request body for a mutation. Requiring application/json keeps plain cross-site form
 * posts out (browsers must preflight a cross-origin JSON request).
 */
import { InvalidInput } from "../../analysis/errors";

/** readJsonBody parses the body or throws InvalidInput naming the problem. */
export async function readJsonBody(req: Request, maxBytes = 64 * 1024): Promise<unknown> {
  if (!(req.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new InvalidInput("the request body must be JSON (content-type: application/json)", "content-type");
  }
  const text = await req.text();
  if (text.length > maxBytes) throw new InvalidInput(`the request body is larger than ${maxBytes} bytes`, "body");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInput(`the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, "body");
  }
}
