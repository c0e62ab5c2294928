/**
 * afterPageLoad resolves once the document has finished loading: for the run page, once its last streamed
 * panel has arrived (the HTML stream stays open until then). Panels that fetch their own data from a slow,
 * synchronous server read (the advice, the capacity what-if) wait for it, so their request does not hold up
 * the reads of the panels still being streamed. Resolves at once after a client-side navigation.
 */
export function afterPageLoad(): Promise<void> {
  if (typeof document === "undefined" || document.readyState === "complete") return Promise.resolve();
  return new Promise((resolve) => window.addEventListener("load", () => resolve(), { once: true }));
}
