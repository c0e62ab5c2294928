import type { Metadata } from "next";
import { ImportForm } from "@/components/ImportForm";

export const metadata: Metadata = { title: "Import a run" };

/** ImportPage: upload a Megatron log, a TensorBoard event file or a token dump of a run that was not instrumented. */
export default function ImportPage() {
  return (
    <div className="space-y-4" data-testid="import-page">
      <h1 className="text-lg font-semibold">Import a run</h1>
      <p className="max-w-3xl text-sm text-muted">
        For runs that were not instrumented: a Megatron stdout log, a TensorBoard event file or a token-count JSONL dump.
        The file goes through the same importer as <code>moe-telemetry import</code> (use the CLI for files over 512 MiB).
        If the input does not print Megatron&apos;s arguments, paste the launch script or give the model&apos;s sizes.
      </p>
      <ImportForm />
    </div>
  );
}
