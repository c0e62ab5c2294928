"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useTransition } from "react";

/**
 * useSearchParamsUpdater returns a function that merges updates into the URL's search params with
 * router.replace (no history entry per click, no scroll), so the dashboard state is shareable by link.
 * A null value removes the parameter.
 */
export function useSearchParamsUpdater(): [(updates: Record<string, string | number | null>) => void, boolean] {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const [pending, startTransition] = useTransition();
  const update = useCallback(
    (updates: Record<string, string | number | null>) => {
      const next = new URLSearchParams(params.toString());
      for (const [k, v] of Object.entries(updates)) {
        if (v === null || v === "") next.delete(k);
        else next.set(k, String(v));
      }
      const qs = next.toString();
      startTransition(() => router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false }));
    },
    [router, pathname, params],
  );
  return [update, pending];
}
