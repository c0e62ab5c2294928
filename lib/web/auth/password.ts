/**
 * Password hashing with Argon2id (the OWASP first choice), via @node-rs/argon2's native binding.
 * The parameters are the library's defaults (m = 19 MiB, t = 2, p = 1), which match OWASP's minimum;
 * the PHC string stores them, so raising them later keeps old hashes verifiable.
 */
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { InvalidInput } from "../../analysis/errors";

/** MIN_PASSWORD_LENGTH: NIST SP 800-63B's minimum for user-chosen passwords is 8; we ask for 10. */
export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 1024;

/** validatePassword throws InvalidInput naming what is wrong with a new password. */
export function validatePassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new InvalidInput(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`, "password");
  if (password.length > MAX_PASSWORD_LENGTH) throw new InvalidInput(`the password must have at most ${MAX_PASSWORD_LENGTH} characters`, "password");
}

/** ARGON2ID: Algorithm.Argon2id (a const enum, which isolated modules cannot read, hence the literal). */
const ARGON2ID = 2 as Algorithm;

/** hashPassword returns an Argon2id PHC string ($argon2id$v=19$...). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

/** verifyPassword checks a password against a stored hash; a malformed hash counts as a mismatch. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;

/**
 * burnVerify spends the time of one verification against a throwaway hash, so a login for an unknown
 * user takes as long as one with a wrong password and does not reveal which usernames exist.
 */
export async function burnVerify(password: string): Promise<void> {
  dummy ??= hashPassword("not-a-real-password-just-for-timing");
  await verifyPassword(await dummy, password);
}
