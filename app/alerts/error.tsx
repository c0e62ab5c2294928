"use client";

import { ErrorPanel } from "@/components/ErrorPanel";

/** Error: the alerts could not be read. */
export default function Error({ error, retry }: { error: unknown; retry: () => void }) {
  return <ErrorPanel title="Could not load alerts" error={error} retry={retry} />;
}
