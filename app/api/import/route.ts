import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidInput } from "@/lib/analysis/errors";
import { handle, json, requireRole } from "@/lib/server/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** MAX_UPLOAD_BYTES: the largest file the dashboard accepts (use the CLI for bigger ones). */
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
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
    const form = await req.formData().catch(() => {
      throw new InvalidInput("the body must be multipart/form-data with a file", "body");
    });
    const kind = field(form, "kind");
    if (!kind || !KINDS.has(kind)) throw new InvalidInput("kind must be megatron-log, tensorboard or tokens-jsonl", "kind");
    const file = form.get("file");
    if (!(file instanceof File) || file.size === 0) throw new InvalidInput("file is missing or empty", "file");
    if (file.size > MAX_UPLOAD_BYTES) throw new InvalidInput(`file is larger than ${MAX_UPLOAD_BYTES / 2 ** 20} MiB: use moe-telemetry import`, "file");
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
