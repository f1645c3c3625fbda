// The answers of the API token and webhook routes (docs/api.md; the gateway's OpenAPI is the reference).

/** What an API token may do (docs/security.md#who-may-do-what). */
export const SCOPES: { scope: string; what: string }[] = [
  { scope: "stores:read", what: "list and read stores, their timelines and the account" },
  { scope: "stores:write", what: "order, delete and retry stores" },
  { scope: "stores:credentials", what: "read a store's one-time admin login" },
  { scope: "webhooks:read", what: "list and read webhook endpoints and their deliveries" },
  { scope: "webhooks:write", what: "make, change, delete, test, resend, recover and rotate webhooks" },
];

/** The event types an endpoint may subscribe to (docs/webhooks.md#event-types), or "*" for all. */
export const EVENT_TYPES: { type: string; when: string }[] = [
  { type: "store.requested", when: "the store was asked for" },
  { type: "store.provisioning", when: "the provisioner started on it" },
  { type: "store.step", when: "a provisioning or deletion step is done or retrying" },
  { type: "store.ready", when: "the store answers at its URLs" },
  { type: "store.failed", when: "provisioning or deletion stopped" },
  { type: "store.degraded", when: "the store no longer matches the cluster" },
  { type: "store.repaired", when: "a degraded store is ready again" },
  { type: "store.deleting", when: "deletion was asked for" },
  { type: "store.deleted", when: "the store is gone" },
];
export const ALL_EVENTS = "*";

export interface ApiToken {
  id: string;
  name: string;
  scopes: string[];
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

/** The answer to a create: the only time the secret `token` is ever shown. */
export interface NewApiToken extends Omit<ApiToken, "last_used_at"> {
  token: string;
}

export interface TokenList {
  tokens: ApiToken[];
  next?: string | null;
}

export type DisabledReason = "" | "user" | "gone" | "failing";

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
  disabled_reason: DisabledReason;
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
  last_success_at: string | null;
  failing_since: string | null;
  exhausted_messages: number;
  previous_secret_expires_at: string | null;
}

/** The answer to a create or a rotation: the only time the signing secret is ever shown. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

export interface WebhookList {
  webhooks: Webhook[];
  next?: string | null;
}

export type DeliveryStatus = "pending" | "succeeded" | "failed";

export interface Attempt {
  attempted_at: string;
  status_code: number | null;
  error: string;
  latency_ms: number;
  response_body: string;
  succeeded: boolean;
}

export interface Delivery {
  id: string;
  event_type: string;
  status: DeliveryStatus;
  created_at: string;
  next_attempt_at: string | null;
  payload: Record<string, unknown>;
  attempts: Attempt[];
}

/** A page of the delivery log: older pages through `next` (a URL) or, before it, `next_before` (a time). */
export interface DeliveryPage {
  deliveries: Delivery[];
  next?: string | null;
  next_before?: string | null;
}
