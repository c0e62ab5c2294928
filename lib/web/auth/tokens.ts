/** Random secrets and their digests for sessions and setup codes. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** randomSecret: 256 random bits, base64url. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** sha256Hex: what the database keeps instead of a secret. */
export function sha256Hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** equalSecrets compares two strings in constant time (for the length of the shorter). */
export function equalSecrets(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}
