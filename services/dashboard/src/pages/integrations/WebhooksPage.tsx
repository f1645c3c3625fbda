// Webhook endpoints: where Storeplane POSTs a signed message for each event of the user's stores. The
// list shows each endpoint's health; adding one shows its signing secret once.
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import toast from "react-hot-toast/headless";
import { Link } from "react-router";
import { api, ApiError } from "../../api/client";
import { Dialog } from "../../components/Dialog";
import { EmptyState, ErrorNotice, messageOf, Skeleton } from "../../components/feedback";
import { Field, FormEnd } from "../../components/Field";
import { EventsPicker, eventsText } from "./EventsPicker";
import { LoadMore, SecretOnce, usePagedList, When, TableScroll } from "./shared";
import type { Webhook, WebhookList, WebhookWithSecret } from "./types";

export const WEBHOOKS_KEY = ["webhooks"];

export const URL_RULES =
  "https:// with a public host name. Loopback, private, link-local and cloud-metadata addresses are refused, " +
  "unless the platform's operator allows them (a local development platform allows loopback and http://).";

const REASONS: Record<string, string> = {
  user: "turned off by you",
  gone: "the endpoint answered 410 Gone",
  failing: "no delivery succeeded for 5 days",
};

/** Whether the endpoint is receiving messages, and why not. */
export function EndpointHealth({ webhook }: { webhook: Webhook }) {
  if (!webhook.enabled) {
    return (
      <span className="health health-bad">
        Disabled{webhook.disabled_reason ? `: ${REASONS[webhook.disabled_reason] ?? webhook.disabled_reason}` : ""}
      </span>
    );
  }
  if (webhook.failing_since) {
    return (
      <span className="health health-warn">
        Failing since <When iso={webhook.failing_since} />
      </span>
    );
  }
  return <span className="health health-ok">Enabled</span>;
}

export function WebhooksPage() {
  const list = usePagedList<WebhookList, Webhook>(WEBHOOKS_KEY, "/api/v1/webhooks", (page) => page.webhooks);
  const [adding, setAdding] = useState(false);
  return (
    <section aria-labelledby="webhooks-title">
      <div className="page-head">
        <h1 id="webhooks-title">Webhooks</h1>
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          Add endpoint
        </button>
      </div>
      {list.isPending ? (
        <Skeleton label="Loading your webhook endpoints" />
      ) : list.isError ? (
        <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
      ) : list.items.length === 0 ? (
        <EmptyState title="No webhook endpoints yet">
          <p>
            Add an endpoint to have Storeplane POST a signed message to your system (an ERP, a chat bridge) whenever one
            of your stores is requested, ready, failed or deleted.
          </p>
        </EmptyState>
      ) : (
        <>
          <WebhookTable webhooks={list.items} />
          <LoadMore list={list} />
        </>
      )}
      {adding && <AddWebhookDialog open onClose={() => setAdding(false)} />}
    </section>
  );
}

function WebhookTable({ webhooks }: { webhooks: Webhook[] }) {
  return (
    <TableScroll label="Your webhook endpoints">
      <table>
        <caption className="visually-hidden">Your webhook endpoints</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Events</th>
            <th scope="col">State</th>
            <th scope="col">Last success</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.map((webhook) => (
            <tr key={webhook.id}>
              <td>
                <Link to={`/integrations/webhooks/${encodeURIComponent(webhook.id)}`} className="mono break">
                  {webhook.url}
                </Link>
                {webhook.description && <div className="muted">{webhook.description}</div>}
              </td>
              <td>{eventsText(webhook.events)}</td>
              <td>
                <EndpointHealth webhook={webhook} />
              </td>
              <td>
                <When iso={webhook.last_success_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

type Errors = { url?: string; events?: string; description?: string; form?: string };
export const WEBHOOK_FIELD_OF: Record<string, keyof Errors> = {
  invalid_url: "url",
  target_refused: "url",
  invalid_events: "events",
};

/** The field an API refusal is about, with its message (and what to try, for a form-wide one). */
export function webhookErrors(error: unknown): Errors {
  const field = error instanceof ApiError ? (WEBHOOK_FIELD_OF[error.code] ?? "form") : "form";
  const { message, hint } = messageOf(error);
  return { [field]: field === "form" && hint ? `${message} ${hint}` : message };
}

function AddWebhookDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>(["store.ready", "store.failed"]);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<WebhookWithSecret | null>(null);
  const client = useQueryClient();
  const close = () => {
    setUrl("");
    setDescription("");
    setEvents(["store.ready", "store.failed"]);
    setErrors({});
    setMade(null);
    onClose();
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const webhook = await api.post<WebhookWithSecret>("/api/v1/webhooks", { url: url.trim(), events, description });
      setMade(webhook);
      toast.success("Endpoint added");
      await client.invalidateQueries({ queryKey: WEBHOOKS_KEY });
    } catch (error) {
      setErrors(webhookErrors(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} title={made ? "Your endpoint's signing secret" : "Add a webhook endpoint"} onClose={close}>
      {made ? (
        <>
          <SecretOnce label="Signing secret" secret={made.secret}>
            Your receiver verifies each message's <code>webhook-signature</code> with it.
          </SecretOnce>
          <div className="actions">
            <Link to={`/integrations/webhooks/${encodeURIComponent(made.id)}`} onClick={close}>
              Open the endpoint
            </Link>
            <button type="button" className="primary" onClick={close}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Field
            label="URL"
            type="url"
            inputMode="url"
            placeholder="https://erp.example.com/hooks/storeplane"
            hint={URL_RULES}
            required
            value={url}
            onChange={(event) => setUrl(event.target.value)}
            error={errors.url}
          />
          <Field
            label="Description (optional)"
            maxLength={500}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
            error={errors.description}
          />
          <EventsPicker events={events} onChange={setEvents} error={errors.events} />
          <FormEnd error={errors.form} submit="Add endpoint" busy={busy} onCancel={close} />
        </form>
      )}
    </Dialog>
  );
}
