"use client";

import dynamic from "next/dynamic";

/**
 * AlertRulesEditorLazy: AlertRulesEditor in a script chunk of its own. The editor validates with the
 * alert rules' zod schemas, which brought zod (113 KB of script) into the run page's main bundle for a
 * panel that sits closed at the bottom of the page; now it loads beside the page instead of before it.
 */
export const AlertRulesEditorLazy = dynamic(() => import("./AlertRulesEditor").then((m) => m.AlertRulesEditor));
