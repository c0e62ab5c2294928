"use client";

import { ErrorPanel } from "@/components/ErrorPanel";

/** Error: the runs list could not be read (database unreachable, query failed). */
export default function Error({ error, retry }: { error: unknown; retry: () => void }) {
  return <ErrorPanel title="Could not load the runs" error={error} retry={retry} />;
}
