// The store's admin login, shown once: a warning first, then the values with copy buttons; afterwards (the
// API's 410, or CredentialsRevealed on the timeline) it says the login was already revealed, calmly.
import { useState } from "react";
import toast from "react-hot-toast/headless";
import { api, ApiError } from "../../api/client";
import { toastError } from "../../components/feedback";
import type { Credentials } from "../../stores/types";

function CopyValue({ label, value }: { label: string; value: string }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      toast.success("Copied");
    } catch {
      toast.error(`Could not copy the ${label.toLowerCase()}: select it and copy it by hand.`);
    }
  };
  return (
    <div className="secret-row">
      <dt>{label}</dt>
      <dd>
        <code>{value}</code>
        <button type="button" onClick={() => void copy()} aria-label={`Copy ${label.toLowerCase()}`}>
          Copy
        </button>
      </dd>
    </div>
  );
}

export function CredentialsReveal({ storeId, revealedBefore }: { storeId: string; revealedBefore: boolean }) {
  const [credentials, setCredentials] = useState<Credentials | null>(null);
  const [gone, setGone] = useState(false);
  const [pending, setPending] = useState(false);

  const reveal = async () => {
    setPending(true);
    try {
      setCredentials(await api.get<Credentials>(`/api/v1/stores/${encodeURIComponent(storeId)}/credentials`));
      toast.success("Admin login revealed: copy it now.");
    } catch (error) {
      if (error instanceof ApiError && error.code === "credentials_already_revealed") setGone(true);
      else toastError(error);
    } finally {
      setPending(false);
    }
  };

  if (credentials) {
    return (
      <div className="credentials">
        <p className="warning" role="note">
          Copy these now: they are not shown again.
        </p>
        <dl>
          <CopyValue label="Username" value={credentials.username} />
          <CopyValue label="Password" value={credentials.password} />
          <CopyValue label="Email" value={credentials.email} />
          {credentials.admin_url && (
            <div className="secret-row">
              <dt>Admin URL</dt>
              <dd>
                <a href={credentials.admin_url} target="_blank" rel="noreferrer">
                  {credentials.admin_url}
                </a>
              </dd>
            </div>
          )}
        </dl>
      </div>
    );
  }
  if (gone || revealedBefore) {
    return (
      <p className="muted" role="status">
        The admin login was already revealed, once. If it is lost, reset the password in the store's own admin.
      </p>
    );
  }
  return (
    <div className="credentials">
      <p className="warning" role="note">
        The admin login is shown once only: reveal it when you can copy it somewhere safe.
      </p>
      <button type="button" onClick={() => void reveal()} disabled={pending}>
        {pending ? "Revealing…" : "Reveal admin login"}
      </button>
    </div>
  );
}
