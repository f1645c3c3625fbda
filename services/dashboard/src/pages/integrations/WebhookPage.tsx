// One webhook endpoint: its settings (turn it on or off, the events, the URL), a test message, a new
// signing secret (shown once), deleting it, and its delivery log.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import toast from "react-hot-toast/headless";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice, Skeleton, toastError } from "../../components/feedback";
import { Field, FormEnd } from "../../components/Field";
import { DeliveryLog } from "./DeliveryLog";
import { EventsPicker } from "./EventsPicker";
import { Confirm, SecretOnce, When } from "./shared";
import type { Webhook, WebhookWithSecret } from "./types";
import { EndpointHealth, URL_RULES, WEBHOOKS_KEY, webhookErrors } from "./WebhooksPage";

export function endpointPath(id: string): string {
  return `/api/v1/webhooks/${encodeURIComponent(id)}`;
}

export function WebhookPage() {
  const id = useParams().webhookId ?? "";
  const query = useQuery({ queryKey: [...WEBHOOKS_KEY, id], queryFn: () => api.get<Webhook>(endpointPath(id)) });
  return (
    <section aria-labelledby="webhook-title">
      <p>
        <Link to="/integrations/webhooks">← All endpoints</Link>
      </p>
      <h1 id="webhook-title">Webhook endpoint</h1>
      {query.isPending ? (
        <Skeleton label="Loading the endpoint" />
      ) : query.isError ? (
        <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        <>
          <Summary webhook={query.data} />
          <Actions webhook={query.data} />
          <Settings key={query.data.updated_at} webhook={query.data} />
          <DeliveryLog webhookId={id} />
        </>
      )}
    </section>
  );
}

function Summary({ webhook }: { webhook: Webhook }) {
  return (
    <dl className="facts">
      <dt>URL</dt>
      <dd className="mono break">{webhook.url}</dd>
      <dt>State</dt>
      <dd>
        <EndpointHealth webhook={webhook} />
      </dd>
      <dt>Last success</dt>
      <dd>
        <When iso={webhook.last_success_at} />
      </dd>
      <dt>Messages given up on</dt>
      <dd>{webhook.exhausted_messages}</dd>
      {webhook.previous_secret_expires_at && (
        <>
          <dt>Previous secret valid until</dt>
          <dd>
            <When iso={webhook.previous_secret_expires_at} />
          </dd>
        </>
      )}
    </dl>
  );
}

function Actions({ webhook }: { webhook: Webhook }) {
  const [confirming, setConfirming] = useState<"rotate" | "delete" | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const client = useQueryClient();
  const navigate = useNavigate();
  const test = async () => {
    try {
      await api.post(`${endpointPath(webhook.id)}/test`);
      toast.success("Test message queued: it shows in the delivery log in a moment");
      await client.invalidateQueries({ queryKey: ["deliveries", webhook.id] });
    } catch (error) {
      toastError(error);
    }
  };
  const rotate = async () => {
    const rotated = await api.post<WebhookWithSecret>(`${endpointPath(webhook.id)}/rotate-secret`);
    setSecret(rotated.secret);
    toast.success("New signing secret made");
    await client.invalidateQueries({ queryKey: WEBHOOKS_KEY });
  };
  const remove = async () => {
    await api.delete(endpointPath(webhook.id));
    toast.success("Endpoint deleted");
    client.removeQueries({ queryKey: [...WEBHOOKS_KEY, webhook.id] });
    await client.invalidateQueries({ queryKey: WEBHOOKS_KEY });
    navigate("/integrations/webhooks");
  };
  return (
    <div className="actions start">
      <button type="button" onClick={() => void test()}>
        Send a test
      </button>
      <button type="button" onClick={() => setConfirming("rotate")}>
        Rotate secret
      </button>
      <button type="button" className="danger" onClick={() => setConfirming("delete")}>
        Delete endpoint
      </button>
      {/* One dialog at a time, mounted while open: the shared Dialog's heading id is fixed. */}
      {confirming === "rotate" && (
        <Confirm title="Make a new signing secret?" verb="Rotate" open onClose={() => setConfirming(null)} action={rotate}>
          <p>For the next 24 hours every message is signed with both the new and the old secret: deploy the new one.</p>
        </Confirm>
      )}
      {confirming === "delete" && (
        <Confirm title="Delete this endpoint?" verb="Delete" open onClose={() => setConfirming(null)} action={remove}>
          <p>
            Nothing more is sent to <span className="mono break">{webhook.url}</span>. This cannot be undone.
          </p>
        </Confirm>
      )}
      {secret && (
        <Dialog open title="Your new signing secret" onClose={() => setSecret(null)}>
          <SecretOnce label="Signing secret" secret={secret} />
          <div className="actions">
            <button type="button" className="primary" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}

function Settings({ webhook }: { webhook: Webhook }) {
  const [url, setUrl] = useState(webhook.url);
  const [description, setDescription] = useState(webhook.description);
  const [events, setEvents] = useState(webhook.events);
  const [enabled, setEnabled] = useState(webhook.enabled);
  const [errors, setErrors] = useState<ReturnType<typeof webhookErrors>>({});
  const [busy, setBusy] = useState(false);
  const client = useQueryClient();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    const changed = {
      ...(url.trim() !== webhook.url && { url: url.trim() }),
      ...(description !== webhook.description && { description }),
      ...(events.join() !== webhook.events.join() && { events }),
      ...(enabled !== webhook.enabled && { enabled }),
    };
    try {
      const saved = await api.patch<Webhook>(endpointPath(webhook.id), changed);
      client.setQueryData([...WEBHOOKS_KEY, webhook.id], saved);
      toast.success(saved.enabled ? "Endpoint saved" : "Endpoint saved: it is disabled");
      await client.invalidateQueries({ queryKey: WEBHOOKS_KEY, exact: true });
    } catch (error) {
      setErrors(webhookErrors(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="settings-title" className="card">
      <h2 id="settings-title">Settings</h2>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
          Enabled: send messages to this endpoint
        </label>
        <Field
          label="URL"
          type="url"
          hint={URL_RULES}
          value={url}
          onChange={(event) => setUrl(event.target.value)}
          error={errors.url}
        />
        <Field
          label="Description"
          maxLength={500}
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          error={errors.description}
        />
        <EventsPicker events={events} onChange={setEvents} error={errors.events} />
        <FormEnd error={errors.form} submit="Save changes" busy={busy} />
      </form>
    </section>
  );
}
