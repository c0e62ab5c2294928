"use client";

import { useEffect, useRef, useState } from "react";

/** LiveConnection: the state of an EventSource subscription, for the live indicator. */
export type LiveConnection = "connecting" | "open" | "retrying";

/**
 * useLiveStream subscribes to a Server-Sent Events endpoint and calls `onUpdate` with each parsed `update`
 * event's data. The browser's EventSource reconnects by itself; we only surface the state.
 */
export function useLiveStream<T>(url: string, onUpdate: (data: T) => void): LiveConnection {
  const [state, setState] = useState<LiveConnection>("connecting");
  const handler = useRef(onUpdate);
  useEffect(() => {
    handler.current = onUpdate;
  });

  useEffect(() => {
    const source = new EventSource(url);
    const onOpen = () => setState("open");
    const onError = () => setState(source.readyState === EventSource.CLOSED ? "retrying" : "retrying");
    const onMessage = (ev: MessageEvent<string>) => {
      setState("open");
      try {
        handler.current(JSON.parse(ev.data) as T);
      } catch {
        // A malformed frame is skipped; the next update carries the full state again.
      }
    };
    source.addEventListener("open", onOpen);
    source.addEventListener("error", onError);
    source.addEventListener("update", onMessage as EventListener);
    return () => {
      source.removeEventListener("update", onMessage as EventListener);
      source.close();
    };
  }, [url]);

  return state;
}
