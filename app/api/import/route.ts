import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidInput } from "@/lib/analysis/errors";
import { formatBytes, limit } from "@/lib/wire/limits";
import { handle, json, requireRole } from "@/lib/web/http/http";

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
 * layers, experts, topk, worldSize): runs the same importer as `moe-telemetry import` against this
 * dashboard's database and answers its JSON summary, or 400 with the importer's message. Needs the editor role.
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
      const args = ["import", kind, target, "--json", "--run", field(form, "run") ?? file.name];
      const config = field(form, "config");
      if (config) {
        const cfg = path.join(dir, "launch.sh");
        fs.writeFileSync(cfg, config);
        args.push("--config", cfg);
      }
      for (const [name, flag] of [["layers", "--layers"], ["experts", "--experts"], ["topk", "--topk"], ["worldSize", "--world-size"]] as const) {
        const v = field(form, name);
        if (v) args.push(flag, v);
      }
      const root = process.env.MOE_TELEMETRY_ROOT ?? process.cwd();
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(root, "bin", "moe-telemetry.mjs"), ...args], { cwd: root, env: process.env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
      const last = result.stdout.trim().split("\n").pop() ?? "";
      if (result.code !== 0 && result.code !== 2) {
        throw new InvalidInput(result.stderr.replace(/^moe-telemetry: /, "").trim() || `the importer exited with ${result.code}`, "file");
      }
      const summary = JSON.parse(last) as Record<string, unknown>;
      const errors = result.stderr.split("\n").filter((l) => l.startsWith("error: "));
      return json({ ...summary, ...(errors.length ? { errors } : {}) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
