import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidInput } from "@/lib/analysis/errors";
import { formatBytes, limit } from "@/lib/wire/limits";
import { handle, json, requireRole } from "@/lib/web/http/http";
import { importFile, type ImportFileOptions, type ImportKind } from "@/lib/importers/importFile";
import { databaseImportSink } from "@/lib/store/importSink";
import { getDb } from "@/lib/web/data/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** MAX_UPLOAD_BYTES: the largest file the dashboard accepts (LIMITS.maxImportUploadBytes; the CLI reads bigger ones from disk). */
const MAX_UPLOAD_BYTES = limit("maxImportUploadBytes");
/** Room for the multipart framing and the small form fields around the file. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

/**
 * formDataWithin parses a multipart body of at most `max` bytes. The body is counted as it streams in,
 * so an oversized upload (declared or not, e.g. chunked) is refused without being buffered whole.
 */
async function formDataWithin(req: Request, max: number): Promise<FormData> {
  const tooLarge = () =>
    new InvalidInput(`the upload is larger than ${formatBytes(MAX_UPLOAD_BYTES)} (LIMITS.maxImportUploadBytes): use moe-telemetry import for bigger files`, "file");
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  if (!req.body) throw new InvalidInput("the body must be multipart/form-data with a file", "body");
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new Response(Buffer.concat(chunks), { headers: { "content-type": req.headers.get("content-type") ?? "" } }).formData();
}
const KINDS = new Set(["megatron-log", "tensorboard", "tokens-jsonl"]);

function field(form: FormData, name: string): string | undefined {
  const v = form.get(name);
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/**
 * POST /api/import (multipart/form-data: kind, file, and optionally run, config (launch script text),
 * layers, experts, topk, worldSize): runs the same importer as `moe-telemetry import` in this process against
 * this dashboard's database and answers its JSON summary, or 400 with the importer's message. Needs the editor role.
 */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => {
    // Before reading the body: a viewer's upload is refused without being buffered.
    await requireRole(req, "editor");
    const form = await formDataWithin(req, MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES).catch((err: unknown) => {
      if (err instanceof InvalidInput) throw err;
      throw new InvalidInput("the body must be multipart/form-data with a file", "body");
    });
    const kind = field(form, "kind");
    if (!kind || !KINDS.has(kind)) throw new InvalidInput("kind must be megatron-log, tensorboard or tokens-jsonl", "kind");
    const file = form.get("file");
    if (!(file instanceof File) || file.size === 0) throw new InvalidInput("file is missing or empty", "file");
    if (file.size > MAX_UPLOAD_BYTES) throw new InvalidInput(`file is larger than ${formatBytes(MAX_UPLOAD_BYTES)} (LIMITS.maxImportUploadBytes): use moe-telemetry import`, "file");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-upload-"));
    try {
      // Keep the uploaded name: the importer reads the rank from tokens_per_expert/rank<R>.jsonl.
      const target = path.join(dir, path.basename(file.name || "upload").replace(/[^A-Za-z0-9._-]/g, "_"));
      fs.writeFileSync(target, Buffer.from(await file.arrayBuffer()));
      const number = (name: string, flag: string): number | undefined => {
        const v = field(form, name);
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidInput(`${flag.slice(2)} must be a positive integer, got "${v}"`, name);
        return n;
      };
      const options: ImportFileOptions = {
        run: field(form, "run") ?? file.name,
        launchScript: field(form, "config"),
        layers: number("layers", "--layers"),
        experts: number("experts", "--experts"),
        topk: number("topk", "--topk"),
        worldSize: number("worldSize", "--world-size"),
      };
      // The same importer as `moe-telemetry import`, in this process, writing to this dashboard's database.
      const result = await importFile(kind as ImportKind, target, options, databaseImportSink(await getDb()));
      return json({ ...result.summary, ...(result.errors.length ? { errors: result.errors.map((e) => `error: ${e}`) } : {}) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
