/** parseBody validates a JSON body with zod, naming the first bad field (400). */
import type { z } from "zod";
import { InvalidInput } from "../../analysis/errors";

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    const name = i.path.join(".") || "body";
    throw new InvalidInput(`${name}: ${i.message}`, name);
  }
  return r.data;
}
