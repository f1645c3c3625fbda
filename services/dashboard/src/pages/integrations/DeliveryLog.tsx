// An endpoint's delivery log: its messages newest first, each with every attempt (when, the HTTP status or
// the transport error, the latency, the start of the answer), filtered by status, older pages on demand;
// a message can be sent again, and every failed one since a moment recovered at once.
import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import toast from "react-hot-toast/headless";
import { api } from "../../api/client";
import { EmptyState, ErrorNotice, Skeleton, toastError } from "../../components/feedback";
import { LoadMore, usePagedList, When, TableScroll } from "./shared";
import type { Attempt, Delivery, DeliveryPage, DeliveryStatus } from "./types";

const STATUSES: { value: DeliveryStatus | ""; label: string }[] = [
  { value: "", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "succeeded", label: "Succeeded" },
  { value: "failed", label: "Failed" },
];

function deliveriesPath(webhookId: string, status: string): string {
  const query = status ? `?status=${encodeURIComponent(status)}` : "";
  return `/api/v1/webhooks/${encodeURIComponent(webhookId)}/deliveries${query}`;
}

/** The next page: the API's `next` link when it gives one, else the older API's `next_before` time. */
export function nextDeliveries(page: DeliveryPage, url: string): string | null {
  if (page.next) return page.next;
  if (!page.next_before) return null;
  const next = new URL(url, "http://dashboard.invalid");
  next.searchParams.set("before", page.next_before);
  return next.pathname + next.search;
}

export function DeliveryLog({ webhookId }: { webhookId: string }) {
  const [status, setStatus] = useState("");
  const filterId = useId();
  const list = usePagedList<DeliveryPage, Delivery>(
    ["deliveries", webhookId, status],
    deliveriesPath(webhookId, status),
    (page) => page.deliveries,
    nextDeliveries,
  );
  return (
    <section aria-labelledby="log-title" className="card">
      <div className="page-head">
        <h2 id="log-title">Delivery log</h2>
        <div className="inline-field">
          <label htmlFor={filterId}>Status</label>
          <select id={filterId} value={status} onChange={(event) => setStatus(event.target.value)}>
            {STATUSES.map(({ value, label }) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <button type="button" onClick={() => void list.refetch()}>
            Refresh
          </button>
        </div>
      </div>
      {list.isPending ? (
        <Skeleton label="Loading the delivery log" />
      ) : list.isError ? (
        <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
      ) : list.items.length === 0 ? (
        <EmptyState title={status ? `No ${status} messages` : "No messages yet"}>
          <p>Messages appear here as your stores change. Send a test to see one now.</p>
        </EmptyState>
      ) : (
        <>
          <ol className="deliveries">
            {list.items.map((delivery) => (
              <DeliveryItem key={delivery.id} webhookId={webhookId} delivery={delivery} />
            ))}
          </ol>
          <LoadMore list={list} />
        </>
      )}
      <Recover webhookId={webhookId} />
    </section>
  );
}

function DeliveryItem({ webhookId, delivery }: { webhookId: string; delivery: Delivery }) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const resend = async () => {
    setBusy(true);
    try {
      await api.post(
        `/api/v1/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(delivery.id)}/resend`,
      );
      toast.success(`${delivery.event_type} queued to go again`);
      await client.invalidateQueries({ queryKey: ["deliveries", webhookId] });
    } catch (error) {
      toastError(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="delivery">
      <div className="delivery-head">
        <code>{delivery.event_type}</code>
        <span className={`health health-${delivery.status === "succeeded" ? "ok" : delivery.status === "failed" ? "bad" : "warn"}`}>
          {delivery.status}
        </span>
        <When iso={delivery.created_at} />
        <span className="muted mono break">{delivery.id}</span>
        <button type="button" disabled={busy} aria-label={`Resend ${delivery.event_type} ${delivery.id}`} onClick={() => void resend()}>
          Resend
        </button>
      </div>
      {delivery.next_attempt_at && delivery.status === "pending" && (
        <p className="muted">
          Next attempt <When iso={delivery.next_attempt_at} />
        </p>
      )}
      {delivery.attempts.length === 0 ? (
        <p className="muted">Not attempted yet.</p>
      ) : (
        <TableScroll label={`Attempts of ${delivery.id}`}>
          <table>
            <caption className="visually-hidden">Attempts of {delivery.id}</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Result</th>
                <th scope="col">Latency</th>
                <th scope="col">Answer</th>
              </tr>
            </thead>
            <tbody>
              {delivery.attempts.map((attempt) => (
                <AttemptRow key={attempt.attempted_at} attempt={attempt} />
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </li>
  );
}

function AttemptRow({ attempt }: { attempt: Attempt }) {
  const result = attempt.status_code !== null ? `HTTP ${attempt.status_code}` : attempt.error || "no answer";
  return (
    <tr>
      <td>
        <When iso={attempt.attempted_at} />
      </td>
      <td className={attempt.succeeded ? "ok-text" : "bad-text"}>
        {result}
        {attempt.status_code !== null && attempt.error && <div className="muted">{attempt.error}</div>}
      </td>
      <td>{Math.round(attempt.latency_ms)} ms</td>
      <td>
        {attempt.response_body ? (
          <details>
            <summary>First KiB of the answer</summary>
            <pre className="answer">{attempt.response_body}</pre>
          </details>
        ) : (
          <span className="muted">empty</span>
        )}
      </td>
    </tr>
  );
}

/** Sends every failed message since a moment again (the moment in the user's time zone, sent as UTC). */
function Recover({ webhookId }: { webhookId: string }) {
  const [since, setSince] = useState("");
  const [busy, setBusy] = useState(false);
  const sinceId = useId();
  const client = useQueryClient();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const moment = new Date(since);
    if (Number.isNaN(moment.getTime())) {
      toast.error("Pick a date and time to recover from.");
      return;
    }
    setBusy(true);
    try {
      const { queued } = await api.post<{ queued: number }>(`/api/v1/webhooks/${encodeURIComponent(webhookId)}/recover`, {
        since: moment.toISOString(),
      });
      toast.success(queued === 1 ? "1 failed message queued again" : `${queued} failed messages queued again`);
      await client.invalidateQueries({ queryKey: ["deliveries", webhookId] });
    } catch (error) {
      toastError(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="recover" onSubmit={(event) => void submit(event)} noValidate>
      <div className="inline-field">
        <label htmlFor={sinceId}>Recover failed messages since</label>
        <input id={sinceId} type="datetime-local" required value={since} onChange={(event) => setSince(event.target.value)} />
        <button type="submit" disabled={busy}>
          Recover
        </button>
      </div>
    </form>
  );
}
