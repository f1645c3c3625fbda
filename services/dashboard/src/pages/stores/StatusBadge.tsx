// A store's status as a badge: a colour AND its word, so it reads without colour too.
import type { StoreStatus } from "../../api/types";
import { STATUS_LABELS } from "../../stores/catalogue";

export function StatusBadge({ status }: { status: StoreStatus }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      <span className="badge-dot" aria-hidden="true" />
      {STATUS_LABELS[status] ?? status}
    </span>
  );
}
