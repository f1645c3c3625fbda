// Every event type a store's timeline can hold (docs/architecture.md#contracts, plus StepStalled), with the
// icon, label and tone the dashboard shows for it, and the status it moves a store to (as the status
// service projects it). An unknown type still renders, with the default entry.
import type { StoreStatus } from "../api/types";

export type Tone = "info" | "ok" | "warn" | "danger";

export interface EventKind {
  icon: string;
  label: string;
  tone: Tone;
  /** The status after this event; null when it only goes into the timeline. */
  status: StoreStatus | null;
}

export const EVENT_KINDS: Record<string, EventKind> = {
  StoreRequested: { icon: "✚", label: "Store requested", tone: "info", status: "requested" },
  ProvisioningStarted: { icon: "▶", label: "Provisioning started", tone: "info", status: "provisioning" },
  NamespaceCreated: { icon: "▣", label: "Namespace created", tone: "info", status: "provisioning" },
  QuotaApplied: { icon: "⚖", label: "Quota applied", tone: "info", status: "provisioning" },
  LimitsApplied: { icon: "▤", label: "Limits applied", tone: "info", status: "provisioning" },
  NetworkPolicyApplied: { icon: "⊘", label: "Network policy applied", tone: "info", status: "provisioning" },
  CredentialsCreated: { icon: "⌘", label: "Credentials created", tone: "info", status: "provisioning" },
  ChartInstalled: { icon: "⎈", label: "Chart installed", tone: "info", status: "provisioning" },
  StoreReady: { icon: "✔", label: "Store ready", tone: "ok", status: "ready" },
  ProvisioningFailed: { icon: "✖", label: "Provisioning failed", tone: "danger", status: "failed" },
  StepRetrying: { icon: "↻", label: "Step retrying", tone: "warn", status: null },
  StepStalled: { icon: "◔", label: "Step stalled", tone: "warn", status: null },
  StoreRetryRequested: { icon: "↺", label: "Retry requested", tone: "info", status: "provisioning" },
  StoreDegraded: { icon: "⚠", label: "Store degraded", tone: "warn", status: "degraded" },
  CredentialsRevealed: { icon: "◉", label: "Admin login revealed", tone: "info", status: null },
  StoreDeletionRequested: { icon: "⌫", label: "Deletion requested", tone: "info", status: "deleting" },
  ReleaseUninstalled: { icon: "⏏", label: "Release uninstalled", tone: "info", status: "deleting" },
  StoreDeleted: { icon: "∅", label: "Store deleted", tone: "info", status: "deleted" },
  DeletionFailed: { icon: "✖", label: "Deletion failed", tone: "danger", status: "deleting" },
};

export const EVENT_TYPES = Object.keys(EVENT_KINDS);

export function kindOf(type: string): EventKind {
  return EVENT_KINDS[type] ?? { icon: "•", label: type.replace(/([a-z])([A-Z])/g, "$1 $2"), tone: "info", status: null };
}

/** The lifecycle's order: an event never moves a store backwards (but a retry moves a failed one on). */
export const STATUS_RANK: Record<StoreStatus, number> = {
  requested: 0,
  provisioning: 1,
  ready: 2,
  degraded: 2,
  failed: 2,
  deleting: 3,
  deleted: 4,
};

export const STATUS_LABELS: Record<StoreStatus, string> = {
  requested: "Requested",
  provisioning: "Provisioning",
  ready: "Ready",
  degraded: "Degraded",
  failed: "Failed",
  deleting: "Deleting",
  deleted: "Deleted",
};

export const BEING_PROVISIONED: ReadonlySet<StoreStatus> = new Set(["requested", "provisioning"]);
