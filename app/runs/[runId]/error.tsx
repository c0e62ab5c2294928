"use client";

import Link from "next/link";
import { ErrorPanel } from "@/components/ErrorPanel";

/** Error: the run's data could not be read. */
export default function Error({ error, retry }: { error: unknown; retry: () => void }) {
  return (
    <div className="space-y-3">
      <Link href="/" className="text-xs text-muted hover:text-fg">
        ← Runs
      </Link>
      <ErrorPanel title="Could not load this run" error={error} retry={retry} />
    </div>
  );
}
