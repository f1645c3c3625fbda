// The answers the store pages read beyond the shared ones in api/types.ts (docs/api.md, docs/observability.md).

/** Per engine and step, how long recent provisionings took (`GET /api/v1/stats/steps`). */
export interface StepFigure {
  engine: string;
  step: string;
  samples: number;
  p50_seconds: number;
  p95_seconds: number;
}

export interface StepFigures {
  steps: StepFigure[];
}

/** A store's admin login, answered once (`GET /api/v1/stores/{id}/credentials`). */
export interface Credentials {
  username: string;
  password: string;
  email: string;
  admin_url: string | null;
}

export interface Span {
  span_id: string;
  parent_id: string | null;
  service: string;
  name: string;
  start: string;
  duration_ms: number;
  status: "ok" | "error" | "unset";
  attributes: Record<string, string | number | boolean>;
}

/** The trace of a store's latest provisioning (`GET /api/v1/stores/{id}/trace`). */
export interface Trace {
  trace_id: string;
  spans: Span[];
  earlier_trace_ids: string[];
}

export interface StreamTicket {
  ticket: string;
  expires_in: number;
}
