import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLineSplitter } from "./createLineSplitter";
import { importMegatronLogStream, importTensorBoardStream, importTokensJsonlStream } from "./importStream";
import { iterationLine } from "./testdata/megatronFormat";
import { concat, event, frameRecord, simpleValue } from "./testdata/tfrecordWriter";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function chunked(data: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(Buffer.from(data.subarray(i, i + size)));
  return out;
}

describe("createLineSplitter", () => {
  const cases: Array<{ name: string; chunks: Array<Uint8Array | string>; lines: string[] }> = [
    { name: "lines across chunks", chunks: ["ab", "c\nde", "f\n"], lines: ["abc", "def"] },
    { name: "CRLF", chunks: ["a\r", "\nb\r\n"], lines: ["a", "b"] },
    { name: "last line without newline", chunks: ["a\nb"], lines: ["a", "b"] },
    { name: "multi-byte character split between chunks", chunks: [bytes("é").subarray(0, 1), concat([bytes("é").subarray(1), bytes("\n")])], lines: ["é"] },
    { name: "empty input", chunks: [], lines: [] },
  ];
  it.each(cases)("$name", ({ chunks, lines }) => {
    const s = createLineSplitter();
    expect([...chunks.flatMap((c) => s.push(c)), ...s.finish()]).toEqual(lines);
  });

  it("cuts a line that exceeds the maximum length", () => {
    const s = createLineSplitter({ maxLineLength: 4 });
    expect(s.push("abcdef")).toEqual(["abcdef"]);
    expect(s.push("gh\n")).toEqual(["gh"]);
  });
});

describe("importStream adapters", () => {
  it("megatron log from a Node Readable split mid-line, with progress", async () => {
    const text = `${iterationLine({ iteration: 1 })}\n[default0]:${iterationLine({ iteration: 2 })}\n`;
    const progress: number[] = [];
    const r = await importMegatronLogStream(Readable.from(chunked(bytes(text), 50)), { onProgress: (p) => progress.push(p.bytes) });
    expect(r.iterations.map((i) => i.iteration)).toEqual([1, 2]);
    expect(progress.at(-1)).toBe(bytes(text).length);
  });

  it("tensorboard file in small chunks hands points out as they complete", async () => {
    const file = concat([1, 2].map((step) => frameRecord(event({ step, values: [simpleValue("z_loss", step)] }))));
    const got: number[] = [];
    const r = await importTensorBoardStream(chunked(file, 9), { onPoints: (ps) => void got.push(...ps.map((p) => p.step)) });
    expect(got).toEqual([1, 2]);
    expect(r.framing.records).toBe(2);
  });

  it("tokens jsonl streams records to the callback", async () => {
    const text = '{"iteration":1,"layer":1,"counts":[1,2]}\n{"iteration":2,"layer":1,"counts":[3,4]}';
    const got: number[][] = [];
    const s = await importTokensJsonlStream([text.slice(0, 30), text.slice(30)], { onRecords: (rs) => void got.push(...rs.map((r) => r.tokensPerExpert)) });
    expect(got).toEqual([[1, 2], [3, 4]]);
    expect(s.records).toBe(2);
  });

  describe("limits (LIMITS.maxImportBytes, maxImportLineBytes, maxImportRecords)", () => {
    it("stops a file larger than the byte limit, naming the limit", async () => {
      const text = `${iterationLine({ iteration: 1 })}\n`.repeat(10);
      await expect(importMegatronLogStream([text], { limits: { maxBytes: 100 } })).rejects.toThrow(/the Megatron log is larger than 100 bytes \(maxImportBytes\)/);
    });
    it("stops at a line longer than the line limit (a binary or a file without newlines)", async () => {
      await expect(importTokensJsonlStream(["x".repeat(50), "y".repeat(50)], { limits: { maxLineBytes: 64 } })).rejects.toThrow(
        /line 1 of the token-count JSONL file is longer than 64 bytes \(maxImportLineBytes\)/,
      );
      await expect(importMegatronLogStream(["ok\n", "z".repeat(100), "\n"], { limits: { maxLineBytes: 64 } })).rejects.toThrow(/line 2 of the Megatron log/);
    });
    it("stops a file with more records than the record limit", async () => {
      const text = Array.from({ length: 5 }, (_, i) => `{"iteration":${i + 1},"layer":1,"counts":[1,2]}`).join("\n");
      await expect(importTokensJsonlStream([text], { limits: { maxRecords: 3 } })).rejects.toThrow(/more than 3 records \(maxImportRecords\)/);
      const file = concat([1, 2, 3].map((step) => frameRecord(event({ step, values: [simpleValue("z_loss", step)] }))));
      await expect(importTensorBoardStream([file], { limits: { maxRecords: 2 } })).rejects.toThrow(/TensorBoard event file holds more than 2 records/);
    });
  });
});
