/**
 * foldPackedMax: each expert's running maximum over packed load vectors, decoded in place.
 *
 * Why not `unpackCounts` then a max loop: the heatmap over all steps decodes one vector per stored step,
 * and profiling put ~90% of its time there (1,000 steps x 64 experts: ~3.6 ms in unpackCounts, which
 * allocates an array per vector and checks every value for the general case). The stored loads are almost
 * always packCounts' format 2 (bit-packed zigzag deltas from a base) with widths far under 24 bits, where
 * 32-bit integer operations are exact; this loop decodes that case straight into the maxima (~10x faster).
 * Every other case (format 1 varints, wider deltas, anything malformed) goes through unpackCounts itself,
 * so the format has one reference decoder and corrupt bytes get its error messages.
 * lib/store/packedMax.test.ts checks both paths against unpackCounts.
 */
import { unpackCounts } from "./packCounts";

const FORMAT_DELTA_BITS = 2;
/** Up to this width a value plus 7 pending bits fits 31 bits: `|`, `<<`, `>>>` are exact. */
const FAST_MAX_WIDTH = 24;
/** One vector's decoded values before they are folded (reused: no allocation per vector). */
let scratch = new Float64Array(256);

/**
 * foldPackedMax raises `into[e]` to each decoded value (a vector longer than `into` extends it with zeros
 * first, i.e. a shorter vector counts as zeros past its end; loads are never negative).
 */
export function foldPackedMax(bytes: Uint8Array, into: number[]): void {
  if (bytes.length > 3 && bytes[0] === FORMAT_DELTA_BITS && foldDeltaBits(bytes, into)) return;
  foldValues(unpackCounts(bytes), into);
}

function foldValues(values: readonly number[], into: number[]): void {
  while (into.length < values.length) into.push(0);
  for (let e = 0; e < values.length; e++) if (values[e] > into[e]) into[e] = values[e];
}

/** Read position of varintAt (module state: no object per vector). */
let cursor = 0;

/** varintAt reads the varint at `cursor` and moves past it; -1 when truncated or longer than `limit` allows. */
function varintAt(bytes: Uint8Array, limit: number): number {
  let value = 0;
  let scale = 1;
  let b: number;
  do {
    if (cursor >= bytes.length || scale > limit) return -1;
    b = bytes[cursor++];
    value += (b & 0x7f) * scale; // multiplication, not shifts: a base may exceed 2^31
    scale *= 0x80;
  } while (b & 0x80);
  return value;
}

/** foldDeltaBits folds a well-formed narrow format-2 vector and returns true; false leaves `into` untouched. */
function foldDeltaBits(bytes: Uint8Array, into: number[]): boolean {
  cursor = 1;
  // Length and base are LEB128 varints; a length beyond 2^35 or a base beyond 2^56 is not a load vector.
  const n = varintAt(bytes, 2 ** 28);
  const base = n < 0 ? -1 : varintAt(bytes, 2 ** 49);
  if (base < 0) return false;
  let pos = cursor;
  if (pos >= bytes.length) return false;
  const width = bytes[pos++];
  if (width > FAST_MAX_WIDTH || bytes.length !== pos + Math.ceil((n * width) / 8)) return false;
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  const mask = (1 << width) - 1;
  let acc = 0;
  let bits = 0;
  let min = Number.POSITIVE_INFINITY;
  for (let e = 0; e < n; e++) {
    while (bits < width) {
      acc |= bytes[pos++] << bits;
      bits += 8;
    }
    const z = acc & mask;
    acc >>>= width;
    bits -= width;
    const v = base + ((z >>> 1) ^ -(z & 1));
    scratch[e] = v;
    if (v < min) min = v;
  }
  // A negative value is corrupt: unpackCounts names it.
  if (min < 0) return false;
  while (into.length < n) into.push(0);
  for (let e = 0; e < n; e++) if (scratch[e] > into[e]) into[e] = scratch[e];
  return true;
}
