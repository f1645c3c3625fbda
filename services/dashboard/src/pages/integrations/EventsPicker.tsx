// The event types an endpoint subscribes to, as checkboxes, or "all events" ("*", which includes the
// types added later); used by the add dialog and the endpoint page.
import { ALL_EVENTS, EVENT_TYPES } from "./types";

export function EventsPicker({
  events,
  onChange,
  error,
}: {
  events: string[];
  onChange: (events: string[]) => void;
  error?: string | undefined;
}) {
  const all = events.includes(ALL_EVENTS);
  const toggle = (type: string, on: boolean) =>
    onChange(on ? [...events, type] : events.filter((other) => other !== type));
  return (
    <fieldset aria-describedby={error ? "events-error" : undefined} aria-invalid={error ? true : undefined}>
      <legend>Events to send</legend>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(event) => onChange(event.target.checked ? [ALL_EVENTS] : [])} />
        All events <span className="muted">(including types added later)</span>
      </label>
      {EVENT_TYPES.map(({ type, when }) => (
        <label key={type} className="check">
          <input
            type="checkbox"
            disabled={all}
            checked={all || events.includes(type)}
            onChange={(event) => toggle(type, event.target.checked)}
          />
          <code>{type}</code> <span className="muted">{when}</span>
        </label>
      ))}
      {error && (
        <p id="events-error" className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** The subscribed types as people read them. */
export function eventsText(events: string[]): string {
  return events.includes(ALL_EVENTS) ? "All events" : events.join(", ");
}
