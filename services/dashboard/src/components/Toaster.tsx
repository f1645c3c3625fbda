// Toasts for every outcome and error, from react-hot-toast's headless build: its default build injects a
// <style> element at run time, which the dashboard's CSP (style-src 'self') refuses; ours are in styles.css.
import toaster, { resolveValue, useToaster } from "react-hot-toast/headless";

export function Toaster() {
  const { toasts, handlers } = useToaster({ duration: 5000, error: { duration: 8000 } });
  return (
    <div className="toaster" onMouseEnter={handlers.startPause} onMouseLeave={handlers.endPause}>
      {toasts
        .filter((toast) => toast.visible)
        .map((toast) => (
          <div
            key={toast.id}
            className={`toast toast-${toast.type}`}
            role={toast.type === "error" ? "alert" : "status"}
            aria-live={toast.type === "error" ? "assertive" : "polite"}
          >
            <span className="toast-icon" aria-hidden="true">
              {toast.type === "error" ? "✕" : toast.type === "success" ? "✓" : "•"}
            </span>
            <span>{resolveValue(toast.message, toast)}</span>
            <button type="button" className="ghost" aria-label="Dismiss" onClick={() => toaster.dismiss(toast.id)}>
              ×
            </button>
          </div>
        ))}
    </div>
  );
}
