// One followed event stream, free of React: tickets, resuming, backoff, and handing entries on one at a time.
// An EventSource cannot send the access token, so each connection takes a single-use ticket (docs/streams.md);
// and because the browser's own reconnect would reuse a spent ticket, the connection is closed on its first
// error, the state says "reconnecting" (a page must not pretend its data is fresh), and a new one opens with
// a new ticket and `last_event_id` after 1 s, 2 s, 4 s, 8 s, then every 15 s, so the missed events arrive,
// in order, once.
import { api } from "../api/client";
import type { TimelineEntry } from "../api/types";
import { EVENT_TYPES } from "./catalogue";
import type { StreamTicket } from "./types";

export type StreamState = "connecting" | "live" | "reconnecting" | "ended";

export const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

export interface StreamHandlers {
  onEntry: (entry: TimelineEntry) => void;
  onState: (state: StreamState) => void;
  /** Called when the stream reopened after a drop without a known id: what was missed must be read again. */
  onGap?: () => void;
  /** The event after which the server closes the stream for good. */
  endsWith?: string;
}

export class EventStream {
  private source: EventSource | null = null;
  private stopped = false;
  private failures = 0;
  private dropped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly queue: TimelineEntry[] = [];
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private waiting = false;

  /** `lastId`: the sequence to resume after (the last one the page already read), or null for "from now". */
  constructor(
    private readonly path: string,
    private lastId: number | null,
    private readonly handlers: () => StreamHandlers,
  ) {}

  start(): void {
    this.handlers().onState("connecting");
    void this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.gapTimer);
    this.source?.close();
  }

  private async open(): Promise<void> {
    let ticket: string;
    try {
      ticket = (await api.post<StreamTicket>("/api/v1/stream-tickets")).ticket;
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) return;
    const resume = this.lastId === null ? "" : `&last_event_id=${this.lastId}`;
    const source = new EventSource(`${this.path}?ticket=${encodeURIComponent(ticket)}${resume}`);
    this.source = source;
    source.onopen = () => {
      this.failures = 0;
      this.handlers().onState("live");
      if (this.dropped && this.lastId === null) this.handlers().onGap?.();
    };
    source.onerror = () => {
      source.close();
      if (this.source === source) this.retry();
    };
    const receive = (message: MessageEvent<string>) => this.receive(message);
    source.onmessage = receive;
    for (const type of EVENT_TYPES) source.addEventListener(type, receive);
  }

  private retry(): void {
    if (this.stopped) return;
    this.dropped = true;
    this.handlers().onState("reconnecting");
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)] ?? 15000;
    this.failures += 1;
    this.retryTimer = setTimeout(() => void this.open(), delay);
  }

  private receive(message: MessageEvent<string>): void {
    const id = Number(message.lastEventId);
    const numbered = message.lastEventId !== "" && Number.isFinite(id);
    if (numbered && this.lastId !== null && id <= this.lastId) return; // already handled
    if (numbered) this.lastId = id;
    let entry: TimelineEntry;
    try {
      entry = JSON.parse(message.data) as TimelineEntry;
    } catch {
      return; // not an event: nothing to show
    }
    this.deliver(entry);
    if (entry.type === this.handlers().endsWith) {
      this.stop();
      this.handlers().onState("ended");
    }
  }

  // One entry per task: the cache tells its readers in a task of its own, so every status a store passes
  // through is rendered, even when several events arrive at once (a catch-up, a burst of fast steps).
  private deliver(entry: TimelineEntry): void {
    this.queue.push(entry);
    if (!this.waiting) this.drain();
  }

  private drain(): void {
    const entry = this.queue.shift();
    if (!entry) return;
    this.handlers().onEntry(entry);
    this.waiting = true;
    this.gapTimer = setTimeout(() => {
      this.waiting = false;
      this.drain();
    }, 0);
  }
}
