"use client";

import Link from "next/link";
import { ErrorPanel } from "@/components/ErrorPanel";

/** Error: the post-mortem could not be computed. */
export default function Error({ error, retry }: { error: unknown; retry: () => void }) {
  return (
    <div className="space-y-3">
      <Link href="/" className="text-xs text-muted hover:text-fg">
        ← Runs
      </Link>
      <ErrorPanel title="Could not build this post-mortem" error={error} retry={retry} />
    </div>
  );
}
