/**
 * TFRecord framing reader (the container of TensorBoard event files), fed chunk by chunk.
 *
 * Each record is: uint64 length (little-endian), uint32 masked CRC32C of those 8 bytes, `length` bytes
 * of data, uint32 masked CRC32C of the data. A bad data CRC loses one record only, because the length
 * was verified and says where the next record starts; a bad length CRC leaves no trustworthy boundary,
 * so reading stops there with an error rather than decoding garbage.
 */

/** TfRecordProblem: a corrupt record or framing error at a byte offset of the stream. */
export interface TfRecordProblem {
  offset: number;
  reason: string;
}

/** TfRecordReaderSummary: what the reader saw, returned by finish(). */
export interface TfRecordReaderSummary {
  records: number;
  bytes: number;
  /** Records skipped because their data CRC did not match (reading continued after each). */
  problems: TfRecordProblem[];
  /** Set when reading stopped early (bad length CRC, absurd length); nothing after it was read. */
  fatal: TfRecordProblem | null;
  /** Set when the stream ended inside a record (a file still being written, or cut off). */
  truncatedTail: { offset: number; bytesPresent: number; bytesExpected: number | null } | null;
}

/** TfRecordReader: push chunks in stream order and receive every record they complete. */
export interface TfRecordReader {
  push(chunk: Uint8Array): Uint8Array[];
  finish(): TfRecordReaderSummary;
}

/** TfRecordReaderOptions: a guard against lengths that passed their CRC but cannot be an event. */
export interface TfRecordReaderOptions {
  /** Largest record accepted; default 256 MiB (TensorBoard events are far smaller). */
  maxRecordBytes?: number;
}

const CRC32C_TABLE: Uint32Array = (() => {
  // Castagnoli polynomial 0x1EDC6F41, bit-reflected.
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** crc32c: the CRC32C (Castagnoli) checksum of bytes[start, end). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** maskCrc32c: TFRecord's masking of a CRC, so a CRC of data that itself holds CRCs stays strong. */
export function maskCrc32c(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// A queue of chunks read without concatenating them, so a record split over many chunks costs one copy.
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  available = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /** Removes and returns the next n bytes (n <= available), always as a fresh copy. */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(n - filled, c.length - this.head);
      out.set(c.subarray(this.head, this.head + k), filled);
      filled += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.available -= n;
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.available = 0;
  }
}

function readUint32LE(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** createTfRecordReader: a streaming TFRecord reader that verifies both CRCs of every record. */
export function createTfRecordReader(options: TfRecordReaderOptions = {}): TfRecordReader {
  const maxRecordBytes = options.maxRecordBytes ?? 256 * 1024 * 1024;
  const queue = new ByteQueue();
  const problems: TfRecordProblem[] = [];
  let fatal: TfRecordProblem | null = null;
  let records = 0;
  let bytes = 0;
  let offset = 0; // stream offset of the record being read
  let pendingLength: number | null = null; // set once a record's header is verified

  const push = (chunk: Uint8Array): Uint8Array[] => {
    if (fatal) return [];
    bytes += chunk.length;
    queue.push(chunk);
    const out: Uint8Array[] = [];
    for (;;) {
      if (pendingLength === null) {
        if (queue.available < 12) break;
        const header = queue.take(12);
        const lo = readUint32LE(header, 0);
        const hi = readUint32LE(header, 4);
        const expected = readUint32LE(header, 8);
        if (maskCrc32c(crc32c(header, 0, 8)) !== expected) {
          fatal = {
            offset,
            reason: "length CRC mismatch: the record boundary cannot be trusted, so reading stopped here",
          };
          queue.clear();
          break;
        }
        const length = hi * 2 ** 32 + lo;
        if (length > maxRecordBytes) {
          fatal = { offset, reason: `record length ${length} exceeds the ${maxRecordBytes}-byte limit; reading stopped` };
          queue.clear();
          break;
        }
        pendingLength = length;
      }
      if (queue.available < pendingLength + 4) break;
      const data = queue.take(pendingLength);
      const stored = readUint32LE(queue.take(4), 0);
      if (maskCrc32c(crc32c(data)) !== stored) {
        problems.push({ offset, reason: "data CRC mismatch: record skipped" });
      } else {
        out.push(data);
        records++;
      }
      offset += 12 + pendingLength + 4;
      pendingLength = null;
    }
    return out;
  };

  const finish = (): TfRecordReaderSummary => {
    let truncatedTail: TfRecordReaderSummary["truncatedTail"] = null;
    if (!fatal && (pendingLength !== null || queue.available > 0)) {
      truncatedTail = {
        offset,
        bytesPresent: (pendingLength !== null ? 12 : 0) + queue.available,
        bytesExpected: pendingLength !== null ? 12 + pendingLength + 4 : null,
      };
    }
    return { records, bytes, problems, fatal, truncatedTail };
  };

  return { push, finish };
}
