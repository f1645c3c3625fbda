// How the dashboard shows waiting, emptiness and failure: skeletons instead of blank screens, an empty
// state that says what to do, and every failed request with the API's message and what to try.
import type { ReactNode } from "react";
import toast from "react-hot-toast/headless";
import { ApiError } from "../api/client";

export function Skeleton({ lines = 3, label = "Loading" }: { lines?: number; label?: string }) {
  return (
    <div className="skeleton" role="status" aria-live="polite" aria-label={label}>
      {Array.from({ length: lines }, (_, line) => (
        <div key={line} className="skeleton-line" />
      ))}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

export function messageOf(error: unknown): { message: string; hint: string } {
  if (error instanceof ApiError) return { message: error.message, hint: error.hint };
  return { message: error instanceof Error ? error.message : String(error), hint: "Reload the page and try again." };
}

/** A failed request in place of what it should have shown, with a way to try again. */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { message, hint } = messageOf(error);
  return (
    <div className="error-notice" role="alert">
      <p className="error-message">{message}</p>
      {hint && <p className="error-hint">{hint}</p>}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A toast for an outcome that has no place on the page (a failed action). */
export function toastError(error: unknown): void {
  const { message, hint } = messageOf(error);
  toast.error(hint ? `${message} ${hint}` : message);
}
