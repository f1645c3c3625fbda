// Test helpers of the store pages: a scripted EventSource (jsdom has none), and stores and events as the
// API answers them.
import { act } from "@testing-library/react";
import { vi } from "vitest";
import type { Store, TimelineEntry } from "../api/types";
import type { Answer } from "../test/render";

type Listener = (message: MessageEvent<string>) => void;

/** Stands in for the browser's EventSource: a test opens, feeds and breaks each connection by hand. */
export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: Listener | null = null;
  closed = false;
  private listeners = new Map<string, Set<Listener>>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  static install(): void {
    FakeEventSource.instances = [];
    vi.stubGlobal("EventSource", FakeEventSource);
  }

  static latest(): FakeEventSource {
    const source = FakeEventSource.instances.at(-1);
    if (!source) throw new Error("no EventSource was opened");
    return source;
  }

  addEventListener(type: string, listener: Listener): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)?.add(listener);
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    act(() => this.onopen?.(new Event("open")));
  }

  emit(entry: TimelineEntry): void {
    const message = new MessageEvent(entry.type, { data: JSON.stringify(entry), lastEventId: String(entry.sequence) });
    act(() => this.listeners.get(entry.type)?.forEach((listener) => listener(message)));
  }

  fail(): void {
    act(() => this.onerror?.(new Event("error")));
  }
}

export function aStore(overrides: Partial<Store> = {}): Store {
  return {
    id: "s-1",
    name: "my-shop",
    engine: "woocommerce",
    status: "ready",
    namespace: "store-my-shop-0a1b2c3d",
    created_at: new Date(Date.now() - 5 * 60_000).toISOString(),
    urls: {},
    error: null,
    ...overrides,
  };
}

export function anEntry(type: string, sequence: number, data: Record<string, unknown> = {}, storeId = "s-1"): TimelineEntry {
  return {
    event_id: `e-${sequence}`,
    type,
    occurred_at: new Date(Date.UTC(2026, 11, 1, 10, 0, sequence)).toISOString(),
    sequence,
    data,
    store_id: storeId,
  };
}

export const ticket: Answer = { status: 201, body: { ticket: "spt_x", expires_in: 60 } };

export function apiError(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

/** The headers of the fetch calls to `path`, from the stubbed fetch. */
export function headersOf(path: string): Record<string, string>[] {
  const fetch = globalThis.fetch as unknown as { mock: { calls: [string, RequestInit | undefined][] } };
  return fetch.mock.calls.filter(([url]) => String(url) === path).map(([, init]) => (init?.headers ?? {}) as Record<string, string>);
}
