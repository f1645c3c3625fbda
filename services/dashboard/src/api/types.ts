// The API's answers, as docs/api.md describes them (the gateway's OpenAPI at /schema is the reference).

export type Role = "user" | "admin";

export interface User {
  id: string;
  email: string;
  role: Role;
}

/** A session as login, register and refresh answer it in cookie mode (the refresh token is a cookie). */
export interface SessionAnswer {
  token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in: number;
  user: User;
}

export interface Quota {
  limit: number;
  in_use: number;
}

export interface Account {
  user: User;
  quota: Quota;
}

export type StoreStatus = "requested" | "provisioning" | "ready" | "degraded" | "failed" | "deleting" | "deleted";

export interface StoreError {
  step: string;
  reason: string;
  message: string;
  retryable: boolean;
}

export interface Store {
  id: string;
  name: string;
  engine: string;
  status: StoreStatus;
  namespace: string;
  created_at: string;
  urls: Record<string, string>;
  error: StoreError | null;
  owner_id?: string;
  estimated_ready_at?: string;
}

/** A list answer: its items under their key, and the next page's URL once lists are paginated. */
export interface StoreList {
  stores: Store[];
  next?: string | null;
}

/** One entry of a store's timeline (and the `data:` of a server-sent event, plus `store_id`). */
export interface TimelineEntry {
  event_id: string;
  type: string;
  occurred_at: string;
  sequence: number;
  data: Record<string, unknown>;
  store_id?: string;
}

export interface EventList {
  events: TimelineEntry[];
  next?: string | null;
}

/** The API's error body: `{"error": {"code", "message"}}`. */
export interface ErrorBody {
  error: { code: string; message: string };
}
