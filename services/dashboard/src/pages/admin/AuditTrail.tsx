// The audit trail: every command given through the API, newest first, with who, what, the outcome and
// from where; filtered by action and by actor (the filters go to the API, which searches the whole trail).
import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { EmptyState, ErrorNotice, Skeleton } from "../../components/feedback";
import { LoadMore, usePagedList, When, TableScroll } from "../integrations/shared";
import type { AuditEntry, AuditList } from "./types";

const PAGE = 50;
// The gateway's audited actions, offered as suggestions (the API takes any name of lower case and _).
const ACTIONS = [
  "create_api_token",
  "create_store",
  "create_webhook",
  "delete_store",
  "delete_webhook",
  "login",
  "logout",
  "logout_all",
  "read_credentials",
  "recover_webhook_messages",
  "refresh",
  "register",
  "resend_webhook_message",
  "retry_store",
  "revoke_api_token",
  "rotate_webhook_secret",
  "set_quota",
  "test_webhook",
  "update_webhook",
];

type Filters = { action: string; actor: string };

export function auditPath({ action, actor }: Filters): string {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (action) query.set("action", action);
  if (actor) query.set("actor_id", actor);
  return `/api/v1/admin/audit?${query}`;
}

export function AuditTrail() {
  const [filters, setFilters] = useState<Filters>({ action: "", actor: "" });
  const list = usePagedList<AuditList, AuditEntry>(["admin", "audit", filters], auditPath(filters), (page) => page.entries);
  return (
    <>
      <h2>Audit trail</h2>
      <AuditFilters onApply={setFilters} />
      {list.isPending ? (
        <Skeleton label="Loading the audit trail" />
      ) : list.isError ? (
        <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
      ) : list.items.length === 0 ? (
        <EmptyState title="No audit records match">
          <p>{filters.action || filters.actor ? "Clear or change the filters." : "Commands appear here as users give them."}</p>
        </EmptyState>
      ) : (
        <>
          <AuditTable entries={list.items} />
          <LoadMore list={list} />
        </>
      )}
    </>
  );
}

function AuditFilters({ onApply }: { onApply: (filters: Filters) => void }) {
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const ids = { action: useId(), actor: useId(), actions: useId() };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply({ action: action.trim(), actor: actor.trim().toLowerCase() });
  };
  return (
    <form className="filters" onSubmit={submit} noValidate aria-label="Filter the audit trail">
      <div className="field">
        <label htmlFor={ids.action}>Action</label>
        <input
          id={ids.action}
          list={ids.actions}
          placeholder="e.g. create_store"
          value={action}
          onChange={(event) => setAction(event.target.value)}
        />
        <datalist id={ids.actions}>
          {ACTIONS.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor={ids.actor}>Actor (user id, or anonymous)</label>
        <input id={ids.actor} className="mono" value={actor} onChange={(event) => setActor(event.target.value)} />
      </div>
      <div className="actions start">
        <button type="submit" className="primary">
          Apply filters
        </button>
        <button
          type="button"
          onClick={() => {
            setAction("");
            setActor("");
            onApply({ action: "", actor: "" });
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <TableScroll label="Audit records, newest first">
      <table>
        <caption className="visually-hidden">Audit records, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">IP</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.event_id}>
              <td>
                <When iso={entry.occurred_at} />
              </td>
              <td>
                {entry.actor_id ? (
                  <Link to={`/admin/users/${encodeURIComponent(entry.actor_id)}`}>{entry.actor_email || entry.actor_id}</Link>
                ) : (
                  <span className="muted">anonymous</span>
                )}
                {entry.credential === "api_token" && <div className="muted">API token</div>}
              </td>
              <td>
                <code>{entry.action}</code>
              </td>
              <td className="mono break">{entry.target || "—"}</td>
              <td className={entry.outcome === "succeeded" ? "ok-text" : "bad-text"}>
                {entry.outcome} ({entry.status_code}){entry.error_code && <div className="muted">{entry.error_code}</div>}
              </td>
              <td className="mono">{entry.client_address}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
