// Answers the webhook tests share, shaped as the gateway's (services/gateway/.../areas/webhooks/schemas.py).
import type { Delivery, Webhook } from "./types";

export function webhook(overrides: Partial<Webhook> = {}): Webhook {
  return {
    id: "ep_1",
    url: "https://erp.example.com/hooks",
    events: ["store.ready", "store.failed"],
    description: "ERP",
    enabled: true,
    disabled_reason: "",
    disabled_at: null,
    created_at: "2026-12-01T09:00:00Z",
    updated_at: "2026-12-01T09:00:00Z",
    last_success_at: null,
    failing_since: null,
    exhausted_messages: 0,
    previous_secret_expires_at: null,
    ...overrides,
  };
}

export function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: "msg_1",
    event_type: "store.ready",
    status: "failed",
    created_at: "2026-12-01T10:00:00Z",
    next_attempt_at: null,
    payload: {},
    attempts: [
      {
        attempted_at: "2026-12-01T10:00:01Z",
        status_code: 500,
        error: "",
        latency_ms: 41.2,
        response_body: "upstream exploded",
        succeeded: false,
      },
      {
        attempted_at: "2026-12-01T10:00:07Z",
        status_code: null,
        error: "connection refused",
        latency_ms: 3.4,
        response_body: "",
        succeeded: false,
      },
    ],
    ...overrides,
  };
}

export const refusal = (status: number, code: string, message: string) => ({ status, body: { error: { code, message } } });

/** The serious and critical axe-core findings on the page as rendered (jsdom: no colour contrast). */
export async function axeFindings(): Promise<string[]> {
  const axe = (await import("axe-core")).default;
  const results = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.html).join(" | ")}`);
}
