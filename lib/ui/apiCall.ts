/**
 * apiCall: one JSON request from a dashboard form to the API. Resolves with the parsed answer, or throws
 * an Error carrying the API's own message ({error}) so forms can show it as is.
 */
export async function apiCall<T = unknown>(url: string, method: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`);
  return data;
}

/** errorText: what a caught value says, for an error line in a form. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
