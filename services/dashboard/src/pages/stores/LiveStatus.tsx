// Whether what the page shows is live: after a network drop it says so until the stream is back.
import type { StreamState } from "../../stores/useStoreEvents";

const WORDS: Record<StreamState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Ended",
};

export function LiveStatus({ state }: { state: StreamState }) {
  return (
    <span className={`live-status live-${state}`} role="status" aria-live="polite">
      <span className="badge-dot" aria-hidden="true" />
      {WORDS[state]}
      {state === "reconnecting" && <span className="visually-muted"> (updates paused; missed ones follow)</span>}
    </span>
  );
}
