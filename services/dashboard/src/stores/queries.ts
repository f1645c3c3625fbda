// The store pages' server state in TanStack Query: where each answer lives in the cache, how it is read
// (following `next` for paginated lists), and how a live event or a 202 answer patches it in place.
import { useInfiniteQuery, useQuery, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Account, EventList, Store, StoreList, TimelineEntry } from "../api/types";
import { applyEntry, storeFromRequest } from "./apply";
import { STATUS_RANK } from "./catalogue";
import type { StepFigures } from "./types";

export const keys = {
  stores: ["stores"] as const,
  store: (id: string) => ["store", id] as const,
  timeline: (id: string) => ["store", id, "events"] as const,
  account: ["account"] as const,
  stepFigures: ["stats", "steps"] as const,
};

type StorePages = InfiniteData<StoreList, string>;

export function useStores() {
  return useInfiniteQuery({
    queryKey: keys.stores,
    queryFn: ({ pageParam }) => api.get<StoreList>(pageParam),
    initialPageParam: "/api/v1/stores",
    // The API names the next page; the dashboard never builds a cursor itself.
    getNextPageParam: (last) => last.next ?? undefined,
  });
}

export function useStore(id: string) {
  return useQuery({ queryKey: keys.store(id), queryFn: () => api.get<Store>(`/api/v1/stores/${encodeURIComponent(id)}`) });
}

export function useAccount() {
  return useQuery({ queryKey: keys.account, queryFn: () => api.get<Account>("/api/v1/account") });
}

export function useStepFigures() {
  return useQuery({ queryKey: keys.stepFigures, queryFn: () => api.get<StepFigures>("/api/v1/stats/steps"), staleTime: 30_000 });
}

/** The whole timeline, oldest first: progress needs every step, so every page is read. */
export async function readTimeline(id: string): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = [];
  let next: string | null | undefined = `/api/v1/stores/${encodeURIComponent(id)}/events`;
  while (next) {
    const page: EventList = await api.get<EventList>(next);
    entries.push(...page.events);
    next = page.next;
  }
  return entries;
}

export function useTimeline(id: string) {
  return useQuery({ queryKey: keys.timeline(id), queryFn: () => readTimeline(id) });
}

function patchPages(pages: StorePages | undefined, change: (stores: Store[], first: boolean) => Store[]) {
  if (!pages) return pages;
  return { ...pages, pages: pages.pages.map((page, index) => ({ ...page, stores: change(page.stores, index === 0) })) };
}

/** The later of two views of one store: a live event may have moved it on before the answer arrived. */
function later(known: Store | undefined, answered: Store): Store {
  return known && STATUS_RANK[known.status] > STATUS_RANK[answered.status] ? known : answered;
}

/** A store the API just answered (a 202): first in the list at once, and on its own page. */
export function putStore(client: QueryClient, store: Store): void {
  client.setQueryData<StorePages>(keys.stores, (pages) =>
    patchPages(pages, (stores, first) => {
      const known = stores.find((candidate) => candidate.id === store.id);
      const rest = stores.filter((candidate) => candidate.id !== store.id);
      return first ? [later(known, store), ...rest] : rest;
    }),
  );
  client.setQueryData<Store>(keys.store(store.id), (known) => later(known, store));
}

/** One live event: the store's badge and details move on in the list and on its page. */
export function applyToCache(client: QueryClient, entry: TimelineEntry): void {
  const id = entry.store_id;
  if (!id) return;
  let known = false;
  client.setQueryData<StorePages>(keys.stores, (pages) =>
    patchPages(pages, (stores) =>
      stores.map((store) => {
        if (store.id !== id) return store;
        known = true;
        return applyEntry(store, entry);
      }),
    ),
  );
  const requested = storeFromRequest(entry);
  if (!known && requested) {
    client.setQueryData<StorePages>(keys.stores, (pages) => patchPages(pages, (stores, first) => (first ? [requested, ...stores] : stores)));
  }
  client.setQueryData<Store>(keys.store(id), (store) => store && applyEntry(store, entry));
  if (entry.type === "StoreRequested" || entry.type === "StoreDeleted") void client.invalidateQueries({ queryKey: keys.account });
}

/** One event of a store's own stream: onto its timeline (once), and into the store. */
export function appendToTimeline(client: QueryClient, id: string, entry: TimelineEntry): void {
  client.setQueryData<TimelineEntry[]>(keys.timeline(id), (entries) =>
    !entries || entries.some((known) => known.event_id === entry.event_id) ? entries : [...entries, entry],
  );
  client.setQueryData<Store>(keys.store(id), (store) => store && applyEntry(store, { ...entry, store_id: id }));
}
