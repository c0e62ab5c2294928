/**
 * Shared argument checks for the pure core: a bad number fails with InvalidInput naming the field,
 * instead of turning into NaN three functions later.
 */
import { InvalidInput } from "./errors";

/** requireInteger returns `value` when it is an integer >= `min`, else throws InvalidInput naming `field`. */
export function requireInteger(value: number, field: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidInput(`${field} must be an integer >= ${min}, got ${value}`, field);
  }
  return value;
}

/** requireCounts checks that every entry is a finite number >= 0 (and the length, when given), naming `field` on failure. */
export function requireCounts(counts: readonly number[], field: string, length?: number): readonly number[] {
  if (length !== undefined && counts.length !== length) {
    throw new InvalidInput(`${field} has ${counts.length} entries, expected ${length}`, field);
  }
  counts.forEach((c, i) => {
    if (!Number.isFinite(c) || c < 0) {
      throw new InvalidInput(`${field}[${i}] is ${c}, expected a finite number >= 0`, field);
    }
  });
  return counts;
}
