// What one live event does to a store as the dashboard holds it: the same moves the status service makes
// (docs/architecture.md#lifecycle), so a badge changes the moment its event arrives, without a refetch.
import type { Store, StoreError, TimelineEntry } from "../api/types";
import { kindOf, STATUS_RANK } from "./catalogue";

function text(data: Record<string, unknown>, key: string): string {
  const value = data[key];
  return typeof value === "string" ? value : "";
}

function errorOf(entry: TimelineEntry): StoreError {
  return {
    step: text(entry.data, "step"),
    reason: text(entry.data, "reason"),
    message: text(entry.data, "message"),
    retryable: entry.data.retryable === true,
  };
}

/** The store after `entry`, or the same object when the entry does not change it. */
export function applyEntry(store: Store, entry: TimelineEntry): Store {
  if (entry.type === "StoreRetryRequested") {
    return store.status === "failed" ? { ...store, status: "provisioning", error: null } : store;
  }
  const status = kindOf(entry.type).status;
  if (status === null || STATUS_RANK[status] < STATUS_RANK[store.status]) return store;
  const next: Store = { ...store, status };
  if (entry.type === "StoreReady") next.urls = (entry.data.urls as Record<string, string> | undefined) ?? store.urls;
  if (entry.type === "ProvisioningFailed" || entry.type === "DeletionFailed") next.error = errorOf(entry);
  if (status === "ready") next.error = null;
  if (status !== "requested" && status !== "provisioning") delete next.estimated_ready_at;
  return next;
}

/** A store first seen through its StoreRequested event (ordered in another tab, say). */
export function storeFromRequest(entry: TimelineEntry): Store | null {
  if (entry.type !== "StoreRequested" || !entry.store_id) return null;
  return {
    id: entry.store_id,
    name: text(entry.data, "name"),
    engine: text(entry.data, "engine"),
    namespace: text(entry.data, "namespace"),
    status: "requested",
    created_at: entry.occurred_at,
    urls: {},
    error: null,
  };
}
