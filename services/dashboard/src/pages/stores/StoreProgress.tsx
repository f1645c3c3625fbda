// The provisioning progress: the ordered steps with a tick and a duration once done, the running one marked,
// a progress bar while it runs, and when the store is likely ready.
import type { Store, TimelineEntry } from "../../api/types";
import { BEING_PROVISIONED } from "../../stores/catalogue";
import { doneCount, progressOf, type StepProgress } from "../../stores/progress";
import { useStepFigures } from "../../stores/queries";
import { duration } from "../../stores/time";
import { RelativeTime } from "./RelativeTime";

const MARKS = { done: "✓", running: "◌", failed: "✕", waiting: "○" } as const;
const STATES = { done: "done", running: "running", failed: "failed", waiting: "waiting" } as const;

function usually(engine: string, step: StepProgress, figures: ReturnType<typeof useStepFigures>["data"]): string {
  const figure = figures?.steps.find((candidate) => candidate.engine === engine && candidate.step === step.step);
  return figure ? ` (usually ${duration(figure.p50_seconds)})` : "";
}

export function StoreProgress({ store, timeline }: { store: Store; timeline: TimelineEntry[] }) {
  const figures = useStepFigures();
  const steps = progressOf(timeline, store.status);
  const running = BEING_PROVISIONED.has(store.status);
  const done = doneCount(steps);
  return (
    <div className="progress">
      {running && (
        <div className="progress-bar">
          <label htmlFor="provisioning-progress">
            Provisioning: {done} of {steps.length} steps
          </label>
          <progress id="provisioning-progress" max={steps.length} value={done}>
            {done} of {steps.length}
          </progress>
          {store.estimated_ready_at && (
            <p className="muted">
              Likely ready <RelativeTime iso={store.estimated_ready_at} />.
            </p>
          )}
        </div>
      )}
      <ol className="steps" aria-label="Provisioning steps">
        {steps.map((step) => (
          <li key={step.event} className={`step step-${step.state}`} aria-current={step.state === "running" ? "step" : undefined}>
            <span className="step-mark" aria-hidden="true">
              {MARKS[step.state]}
            </span>
            <span className="step-label">{step.label}</span>
            <span className="step-state">
              {STATES[step.state]}
              {step.state === "done" && step.seconds !== null && `, ${duration(step.seconds)}`}
              {step.state === "running" && usually(store.engine, step, figures.data)}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
