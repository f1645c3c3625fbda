// The provisioning progress read off a store's timeline: the ordered steps of tests/steps.py, each done
// (with how long it took), running, failed or waiting. The step names are the ones of the step figures
// (GET /api/v1/stats/steps), so the running step can say how long it usually takes.
import type { StoreStatus, TimelineEntry } from "../api/types";

export interface StepDefinition {
  event: string;
  label: string;
  /** The step's name in the step figures and in a failure's `step`; null for the request and start. */
  step: string | null;
}

export const STEPS: StepDefinition[] = [
  { event: "StoreRequested", label: "Requested", step: null },
  { event: "ProvisioningStarted", label: "Provisioning started", step: null },
  { event: "NamespaceCreated", label: "Namespace", step: "namespace" },
  { event: "QuotaApplied", label: "Resource quota", step: "quota" },
  { event: "LimitsApplied", label: "Resource limits", step: "limits" },
  { event: "NetworkPolicyApplied", label: "Network policy", step: "network_policy" },
  { event: "CredentialsCreated", label: "Credentials", step: "credentials" },
  { event: "ChartInstalled", label: "Chart installed", step: "chart" },
  { event: "StoreReady", label: "Ready", step: "readiness" },
];

export type StepState = "done" | "running" | "failed" | "waiting";

export interface StepProgress extends StepDefinition {
  state: StepState;
  /** Seconds from the step before it to this one, once done. */
  seconds: number | null;
  at: string | null;
}

const ATTEMPT_STARTS = new Set(["StoreRequested", "StoreRetryRequested"]);

/** The latest attempt's events: a retry runs the steps again. */
function latestAttempt(timeline: TimelineEntry[]): TimelineEntry[] {
  let start = 0;
  timeline.forEach((entry, index) => {
    if (ATTEMPT_STARTS.has(entry.type)) start = index;
  });
  return timeline.slice(start);
}

export function progressOf(timeline: TimelineEntry[], status: StoreStatus): StepProgress[] {
  const attempt = latestAttempt(timeline);
  const failed = attempt.some((entry) => entry.type === "ProvisioningFailed") || status === "failed";
  let previous: number | null = null;
  let waiting = false;
  return STEPS.map((definition) => {
    // A step done before a retry stays done (its event is not sent again by every retry).
    const entry =
      attempt.find((candidate) => candidate.type === definition.event) ??
      timeline.find((candidate) => candidate.type === definition.event);
    if (entry && !waiting) {
      const at = Date.parse(entry.occurred_at);
      const seconds = previous === null ? null : Math.max(0, (at - previous) / 1000);
      previous = at;
      return { ...definition, state: "done", seconds, at: entry.occurred_at };
    }
    const first = !waiting;
    waiting = true;
    const provisioning = status === "requested" || status === "provisioning";
    const state: StepState = first && failed ? "failed" : first && provisioning ? "running" : "waiting";
    return { ...definition, state, seconds: null, at: null };
  });
}

export function doneCount(steps: StepProgress[]): number {
  return steps.filter((step) => step.state === "done").length;
}
