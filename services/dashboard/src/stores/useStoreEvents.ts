// The store pages' live events as React hooks over EventStream (eventStream.ts): the all-stores stream moves
// every store on in the cache; a store's own stream extends its timeline.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { TimelineEntry } from "../api/types";
import { EventStream, type StreamState } from "./eventStream";
import { appendToTimeline, applyToCache, keys } from "./queries";

export type { StreamState } from "./eventStream";

export interface StreamOptions {
  /** The sequence to resume after from the start (the last one the page already read), if any. */
  after?: number | null;
  endsWith?: string;
  onGap?: () => void;
}

/** Follows `path` (a stream route) while mounted; null waits. Calls `onEntry` once per event, in order. */
export function useEventStream(path: string | null, onEntry: (entry: TimelineEntry) => void, options: StreamOptions = {}): StreamState {
  const [state, setState] = useState<StreamState>("connecting");
  const latest = useRef({ onEntry, options });
  latest.current = { onEntry, options };
  useEffect(() => {
    if (path === null) return;
    // `after` is read once: the stream is not reopened as the page's own data moves on.
    const stream = new EventStream(path, latest.current.options.after ?? null, () => ({
      onEntry: latest.current.onEntry,
      onState: setState,
      onGap: latest.current.options.onGap,
      endsWith: latest.current.options.endsWith,
    }));
    stream.start();
    return () => stream.stop();
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
