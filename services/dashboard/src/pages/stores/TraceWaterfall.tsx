// The store's latest provisioning trace as a waterfall (docs/observability.md#traces), collapsed until asked
// for. Bars are placed with React style props (CSSOM), which the CSP allows, unlike inline style strings.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError } from "../../api/client";
import { ErrorNotice, Skeleton } from "../../components/feedback";
import { duration } from "../../stores/time";
import type { Span, Trace } from "../../stores/types";

function Bars({ spans }: { spans: Span[] }) {
  const starts = spans.map((span) => Date.parse(span.start));
  const begin = Math.min(...starts);
  const end = Math.max(...spans.map((span, index) => (starts[index] ?? begin) + span.duration_ms));
  const total = Math.max(end - begin, 1);
  return (
    <ol className="waterfall" aria-label="Trace spans">
      {spans.map((span, index) => {
        const left = (((starts[index] ?? begin) - begin) / total) * 100;
        const width = Math.max((span.duration_ms / total) * 100, 0.5);
        return (
          <li key={span.span_id} className={`span span-${span.status}`}>
            <span className="span-label">
              <strong>{span.service}</strong> {span.name} · {duration(span.duration_ms / 1000)} · {span.status}
            </span>
            <span className="span-track" aria-hidden="true">
              <span className="span-bar" style={{ marginLeft: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />
            </span>
          </li>
        );
      })}
    </ol>
  );
}

export function TraceWaterfall({ storeId }: { storeId: string }) {
  const [open, setOpen] = useState(false);
  const trace = useQuery({
    queryKey: ["store", storeId, "trace"],
    queryFn: () => api.get<Trace>(`/api/v1/stores/${encodeURIComponent(storeId)}/trace`),
    enabled: open,
    // No trace backend is a setting, not a hiccup: asking again will not change it.
    retry: (failures, error) => failures < 2 && !(error instanceof ApiError && (error.code === "traces_unavailable" || error.status < 500)),
  });
  const unavailable = trace.error instanceof ApiError && trace.error.code === "traces_unavailable";
  return (
    <div className="trace">
      <button type="button" aria-expanded={open} aria-controls="trace-panel" onClick={() => setOpen(!open)}>
        {open ? "Hide trace" : "Show trace"}
      </button>
      <div id="trace-panel" hidden={!open}>
        {open && trace.isPending && <Skeleton label="Loading the trace" />}
        {unavailable && <p className="muted">Traces are not collected on this platform right now; the timeline above has every step.</p>}
        {trace.isError && !unavailable && <ErrorNotice error={trace.error} onRetry={() => void trace.refetch()} />}
        {trace.isSuccess && trace.data.spans.length === 0 && <p className="muted">No trace yet: spans arrive within seconds, and are kept for a while only.</p>}
        {trace.isSuccess && trace.data.spans.length > 0 && <Bars spans={trace.data.spans} />}
      </div>
    </div>
  );
}
