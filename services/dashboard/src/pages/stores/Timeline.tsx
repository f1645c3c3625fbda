// A store's activity: every event with its icon, label, what it says, and when (relative; exact on hover).
import type { TimelineEntry } from "../../api/types";
import { kindOf } from "../../stores/catalogue";
import { RelativeTime } from "./RelativeTime";

interface Finding {
  kind: string;
  object: string;
  reason: string;
  message: string;
}

function text(data: Record<string, unknown>, key: string): string {
  const value = data[key];
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

function failure(data: Record<string, unknown>): string {
  return `${text(data, "step")}: ${text(data, "reason")}. ${text(data, "message")}`;
}

/** What one event says, in a sentence; null when its label says it all. */
function detailOf(entry: TimelineEntry): string | null {
  const data = entry.data;
  switch (entry.type) {
    case "StoreRequested":
      return `${text(data, "name")} on ${text(data, "engine")}`;
    case "NamespaceCreated":
      return text(data, "namespace");
    case "ChartInstalled":
      return `${text(data, "chart")}, revision ${text(data, "revision")}`;
    case "ProvisioningFailed":
    case "DeletionFailed":
      return failure(data);
    case "StepRetrying":
      return `${failure(data)} Attempt ${text(data, "attempt")} of ${text(data, "max_attempts")}, again in ${text(data, "retry_in_seconds")} s.`;
    case "StepStalled":
      return `${text(data, "step")} has run for ${text(data, "running_for_seconds")} s (usually under ${text(data, "threshold_seconds")} s).`;
    case "StoreDegraded":
      return `${text(data, "reason")}: ${text(data, "message")}`;
    default:
      return null;
  }
}

function findingsOf(entry: TimelineEntry): Finding[] {
  const findings = entry.data.findings;
  return Array.isArray(findings) ? (findings as Finding[]) : [];
}

export function TimelineItem({ entry }: { entry: TimelineEntry }) {
  const kind = kindOf(entry.type);
  const detail = detailOf(entry);
  const findings = entry.type === "StepStalled" ? findingsOf(entry) : [];
  return (
    <li className={`timeline-item tone-${kind.tone}`} data-type={entry.type}>
      <span className="timeline-icon" aria-hidden="true">
        {kind.icon}
      </span>
      <div className="timeline-body">
        <span className="timeline-label">{kind.label}</span> <RelativeTime iso={entry.occurred_at} />
        {detail && <p className="timeline-detail">{detail}</p>}
        {findings.length > 0 && (
          <ul className="findings" aria-label="What the namespace shows">
            {findings.map((finding, index) => (
              <li key={index}>
                <code>{finding.object}</code> {finding.kind}: {finding.reason}. {finding.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    </li>
  );
}

export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p className="muted">Nothing has happened yet.</p>;
  // Newest first: what is happening now is what a user looks for.
  return (
    <ol className="timeline" aria-label="Timeline" reversed>
      {[...entries].reverse().map((entry) => (
        <TimelineItem key={entry.event_id} entry={entry} />
      ))}
    </ol>
  );
}
