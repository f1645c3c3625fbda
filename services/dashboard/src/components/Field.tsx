// A labelled form control with its rules beside it and the API's message at the field when it refuses.
import { useId, type InputHTMLAttributes } from "react";

export function Field({
  label,
  hint,
  error,
  ...input
}: { label: string; hint?: string; error?: string | null } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={described} {...input} />
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The end of a form: its error that is about no single field, then its buttons (Cancel first, if any). */
export function FormEnd({
  error,
  submit,
  busy,
  onCancel,
}: {
  error?: string | null;
  submit: string;
  busy: boolean;
  onCancel?: () => void;
}) {
  return (
    <>
      {error && (
        <p className="field-error form-error" role="alert">
          {error}
        </p>
      )}
      <div className={onCancel ? "actions" : "actions start"}>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {submit}
        </button>
      </div>
    </>
  );
}
