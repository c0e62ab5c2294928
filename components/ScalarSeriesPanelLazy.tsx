"use client";

import dynamic from "next/dynamic";

/**
 * ScalarSeriesPanelLazy: ScalarSeriesPanel in a script chunk of its own, loaded only where a run has logged
 * series (imported runs). It draws with recharts; kept out of the run page's main bundle, recharts (about
 * 120 KB compressed with its dependencies) is no longer parsed before the page's charts can hydrate.
 */
export const ScalarSeriesPanelLazy = dynamic(() => import("./ScalarSeriesPanel").then((m) => m.ScalarSeriesPanel));
