// Live events over server-sent events, resumed after a network drop. An EventSource cannot send the access
// token, so each connection takes a single-use ticket (docs/streams.md); and because its own reconnect
// would reuse a spent ticket, this hook closes it on the first error, says "reconnecting" (the page must not
// pretend its data is fresh), and opens a new one with a new ticket and `last_event_id` after a backoff of
// 1 s, 2 s, 4 s, 8 s, then 15 s, so the missed events arrive, in order, once.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import type { TimelineEntry } from "../api/types";
import { EVENT_TYPES } from "./catalogue";
import { appendToTimeline, applyToCache, keys } from "./queries";
import type { StreamTicket } from "./types";

export type StreamState = "connecting" | "live" | "reconnecting" | "ended";

export const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

export interface StreamOptions {
  /** The sequence to resume after from the start (the last one a page already read), if any. */
  after?: number | null;
  /** The event after which the server closes the stream for good. */
  endsWith?: string;
  /** Called when the stream reopened without a known id: what was missed must be read again. */
  onGap?: () => void;
}

/** Follows `path` (a stream route) while mounted; null waits. Calls `onEntry` once per event, in order. */
export function useEventStream(path: string | null, onEntry: (entry: TimelineEntry) => void, options: StreamOptions = {}): StreamState {
  const [state, setState] = useState<StreamState>("connecting");
  const latest = useRef({ onEntry, options });
  latest.current = { onEntry, options };

  useEffect(() => {
    if (path === null) return;
    let stopped = false;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Read once: the stream is not reopened as the page's own data moves on.
    let lastId: number | null = latest.current.options.after ?? null;
    let failures = 0;
    let dropped = false;

    const receive = (message: MessageEvent<string>) => {
      const id = Number(message.lastEventId);
      if (lastId !== null && Number.isFinite(id) && id <= lastId) return; // already handled
      if (Number.isFinite(id) && message.lastEventId !== "") lastId = id;
      let entry: TimelineEntry;
      try {
        entry = JSON.parse(message.data) as TimelineEntry;
      } catch {
        return; // not an event: nothing to show
      }
      latest.current.onEntry(entry);
      if (entry.type === latest.current.options.endsWith) {
        stopped = true;
        source?.close();
        setState("ended");
      }
    };

    const retry = () => {
      if (stopped) return;
      dropped = true;
      setState("reconnecting");
      const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)] ?? 15000;
      failures += 1;
      timer = setTimeout(() => void open(), delay);
    };

    const open = async () => {
      let ticket: string;
      try {
        ticket = (await api.post<StreamTicket>("/api/v1/stream-tickets")).ticket;
      } catch {
        retry();
        return;
      }
      if (stopped) return;
      const resume = lastId === null ? "" : `&last_event_id=${lastId}`;
      const opened = new EventSource(`${path}?ticket=${encodeURIComponent(ticket)}${resume}`);
      source = opened;
      opened.onopen = () => {
        failures = 0;
        setState("live");
        if (dropped && lastId === null) latest.current.options.onGap?.();
      };
      opened.onerror = () => {
        // The browser would reconnect with the spent ticket: close, and open anew with a fresh one.
        opened.close();
        if (source === opened) retry();
      };
      opened.onmessage = receive;
      for (const type of EVENT_TYPES) opened.addEventListener(type, receive);
    };

    setState("connecting");
    void open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [path]);

  return state;
}

/** Every store of the user, live: each event moves its store on in the cache (the list and its page). */
export function useStoreEvents(): StreamState {
  const client = useQueryClient();
  return useEventStream("/api/v1/events/stream", (entry) => applyToCache(client, entry), {
    onGap: () => void client.invalidateQueries({ queryKey: keys.stores }),
  });
}

/** One store's timeline, live from after the last entry already read (`after`; undefined waits for it, and
 * so does a store that is gone: its stream has ended for good). */
export function useStoreTimelineEvents(id: string, after: number | null | undefined, gone: boolean): StreamState {
  const client = useQueryClient();
  const path = after === undefined || gone ? null : `/api/v1/stores/${encodeURIComponent(id)}/events/stream`;
  return useEventStream(path, (entry) => appendToTimeline(client, id, entry), {
    after,
    endsWith: "StoreDeleted",
    onGap: () => void client.invalidateQueries({ queryKey: keys.timeline(id) }),
  });
}
