// A user's store quota: found by id (a store owner's link) or by email, shown with its use, and changed
// (a number of live stores, or back to the platform's default).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import toast from "react-hot-toast/headless";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError } from "../../api/client";
import { ErrorNotice, messageOf, Skeleton } from "../../components/feedback";
import { Field } from "../../components/Field";
import type { AdminUserList, UserQuota } from "./types";

const MAX_STORE_LIMIT = 1000;

function quotaPath(userId: string): string {
  return `/api/v1/admin/users/${encodeURIComponent(userId)}/quota`;
}

/** Finds a user by id or email and opens their quota. */
export function UserLookup() {
  const [who, setWho] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = who.trim();
    setError(null);
    if (!wanted.includes("@")) {
      if (wanted) navigate(`/admin/users/${encodeURIComponent(wanted)}`);
      else setError("Type a user's id or email.");
      return;
    }
    setBusy(true);
    try {
      const { users } = await api.get<AdminUserList>(`/api/v1/admin/users?email=${encodeURIComponent(wanted)}`);
      const [user] = users;
      if (user) navigate(`/admin/users/${encodeURIComponent(user.id)}`);
      else setError(`No account is registered with ${wanted}.`);
    } catch (failure) {
      const { message, hint } = messageOf(failure);
      setError(hint ? `${message} ${hint}` : message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h2>User quotas</h2>
      <form onSubmit={(event) => void submit(event)} noValidate className="narrow">
        <Field
          label="User id or email"
          hint="Or open a store owner from All stores."
          value={who}
          onChange={(event) => setWho(event.target.value)}
          error={error}
        />
        <div className="actions start">
          <button type="submit" className="primary" disabled={busy}>
            Find user
          </button>
        </div>
      </form>
    </>
  );
}

export function UserQuotaPage() {
  const userId = useParams().userId ?? "";
  const query = useQuery({ queryKey: ["admin", "quota", userId], queryFn: () => api.get<UserQuota>(quotaPath(userId)) });
  return (
    <>
      <p>
        <Link to="/admin/users">← Find another user</Link>
      </p>
      {query.isPending ? (
        <Skeleton label="Loading the user's quota" />
      ) : query.isError ? (
        <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        <QuotaForm key={`${query.data.limit}-${query.data.override}`} quota={query.data} />
      )}
    </>
  );
}

function QuotaForm({ quota }: { quota: UserQuota }) {
  const [limit, setLimit] = useState(String(quota.override ?? quota.limit));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const client = useQueryClient();
  const save = async (storeLimit: number | null) => {
    setBusy(true);
    setError(null);
    try {
      const saved = await api.put<UserQuota>(quotaPath(quota.user_id), { store_limit: storeLimit });
      client.setQueryData(["admin", "quota", quota.user_id], saved);
      toast.success(`${saved.email} may now have ${saved.limit} live stores`);
    } catch (failure) {
      const { message, hint } = messageOf(failure);
      setError(failure instanceof ApiError && failure.code === "invalid_quota" ? message : hint ? `${message} ${hint}` : message);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const number = Number(limit);
    // Out of range goes to the API, whose rule answers (invalid_quota); only a non-number is caught here.
    if (limit.trim() === "" || !Number.isInteger(number)) setError(`Type a whole number from 0 to ${MAX_STORE_LIMIT}.`);
    else void save(number);
  };
  return (
    <section aria-labelledby="quota-title">
      <h2 id="quota-title">{quota.email}</h2>
      <dl className="facts">
        <dt>User id</dt>
        <dd className="mono">{quota.user_id}</dd>
        <dt>Live stores</dt>
        <dd>
          {quota.in_use} of {quota.limit}
        </dd>
        <dt>Limit</dt>
        <dd>{quota.override === null ? `the platform's default (${quota.limit})` : `their own: ${quota.override}`}</dd>
      </dl>
      <form onSubmit={submit} noValidate className="narrow">
        <Field
          label="Store limit"
          type="number"
          inputMode="numeric"
          min={0}
          max={MAX_STORE_LIMIT}
          step={1}
          hint={`How many live stores this user may have: 0 to ${MAX_STORE_LIMIT}. Stores they already have stay.`}
          value={limit}
          onChange={(event) => setLimit(event.target.value)}
          error={error}
        />
        <div className="actions start">
          <button type="submit" className="primary" disabled={busy}>
            Save limit
          </button>
          {quota.override !== null && (
            <button type="button" disabled={busy} onClick={() => void save(null)}>
              Use the default
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
