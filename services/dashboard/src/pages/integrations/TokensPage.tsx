// API tokens: what an integration (CI, a script) calls the API with. Listed without their secrets; a new
// one is shown once, right after it is made; revoking one stops it at once.
// (Dialogs are mounted only while open: the shared Dialog's heading id must be unique on the page.)
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import toast from "react-hot-toast/headless";
import { api, ApiError } from "../../api/client";
import { Dialog } from "../../components/Dialog";
import { EmptyState, ErrorNotice, messageOf, Skeleton } from "../../components/feedback";
import { Field, FormEnd } from "../../components/Field";
import { SCOPES, type ApiToken, type NewApiToken, type TokenList } from "./types";
import { Confirm, LoadMore, SecretOnce, usePagedList, When, TableScroll } from "./shared";

const KEY = ["tokens"];

export function TokensPage() {
  const list = usePagedList<TokenList, ApiToken>(KEY, "/api/v1/tokens", (page) => page.tokens);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const client = useQueryClient();
  const revoke = async (token: ApiToken) => {
    await api.delete(`/api/v1/tokens/${encodeURIComponent(token.id)}`);
    toast.success(`Revoked “${token.name}”`);
    await client.invalidateQueries({ queryKey: KEY });
  };
  return (
    <section aria-labelledby="tokens-title">
      <div className="page-head">
        <h1 id="tokens-title">API tokens</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create token
        </button>
      </div>
      {list.isPending ? (
        <Skeleton label="Loading your API tokens" />
      ) : list.isError ? (
        <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
      ) : list.items.length === 0 ? (
        <EmptyState title="No API tokens yet">
          <p>
            An API token lets a script or an integration (a CI job, an ERP) call the Storeplane API on your behalf,
            limited to the scopes you pick. Create one, and revoke it when it is no longer needed.
          </p>
        </EmptyState>
      ) : (
        <>
          <TokenTable tokens={list.items} onRevoke={setRevoking} />
          <LoadMore list={list} />
        </>
      )}
      {creating && <CreateTokenDialog open onClose={() => setCreating(false)} />}
      {revoking && (
        <Confirm title="Revoke this token?" verb="Revoke" open onClose={() => setRevoking(null)} action={() => revoke(revoking)}>
          <p>
            Anything still using <strong>{revoking.name}</strong> will be refused from now on. This cannot be undone.
          </p>
        </Confirm>
      )}
    </section>
  );
}

function TokenTable({ tokens, onRevoke }: { tokens: ApiToken[]; onRevoke: (token: ApiToken) => void }) {
  return (
    <TableScroll label="Your API tokens">
      <table>
        <caption className="visually-hidden">Your API tokens</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Scopes</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => (
            <tr key={token.id}>
              <td>
                {token.name}
                <div className="muted mono">{token.prefix}…</div>
              </td>
              <td>
                <ul className="tags">
                  {token.scopes.map((scope) => (
                    <li key={scope}>
                      <code>{scope}</code>
                    </li>
                  ))}
                </ul>
              </td>
              <td>
                <When iso={token.created_at} />
              </td>
              <td>
                <When iso={token.last_used_at} />
              </td>
              <td>
                <button type="button" className="danger" aria-label={`Revoke ${token.name}`} onClick={() => onRevoke(token)}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

type Errors = { name?: string; scopes?: string; form?: string };
const FIELD_OF: Record<string, keyof Errors> = {
  invalid_token_name: "name",
  token_name_taken: "name",
  invalid_scopes: "scopes",
};

function CreateTokenDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["stores:read"]);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<NewApiToken | null>(null);
  const client = useQueryClient();
  const close = () => {
    setName("");
    setScopes(["stores:read"]);
    setErrors({});
    setMade(null);
    onClose();
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const token = await api.post<NewApiToken>("/api/v1/tokens", { name: name.trim(), scopes });
      setMade(token);
      toast.success(`Token “${token.name}” created`);
      await client.invalidateQueries({ queryKey: KEY });
    } catch (error) {
      const field = error instanceof ApiError ? (FIELD_OF[error.code] ?? "form") : "form";
      const { message, hint } = messageOf(error);
      setErrors({ [field]: hint ? `${message} ${hint}` : message });
    } finally {
      setBusy(false);
    }
  };
  const toggle = (scope: string, on: boolean) =>
    setScopes((now) => (on ? [...now, scope] : now.filter((other) => other !== scope)));
  return (
    <Dialog open={open} title={made ? "Your new API token" : "Create an API token"} onClose={close}>
      {made ? (
        <>
          <SecretOnce label="API token" secret={made.token}>
            Send it as <code>Authorization: Bearer …</code>.
          </SecretOnce>
          <div className="actions">
            <button type="button" className="primary" onClick={close}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Field
            label="Name"
            hint="1 to 64 characters, to recognise the token by (e.g. “ci deploys”); one you have not used."
            value={name}
            maxLength={64}
            required
            onChange={(event) => setName(event.target.value)}
            error={errors.name}
          />
          <fieldset aria-describedby={errors.scopes ? "scopes-error" : undefined}>
            <legend>Scopes: what the token may do</legend>
            {SCOPES.map(({ scope, what }) => (
              <label key={scope} className="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(event) => toggle(scope, event.target.checked)}
                />
                <code>{scope}</code> <span className="muted">{what}</span>
              </label>
            ))}
            {errors.scopes && (
              <p id="scopes-error" className="field-error" role="alert">
                {errors.scopes}
              </p>
            )}
          </fieldset>
          <FormEnd error={errors.form} submit="Create token" busy={busy} onCancel={close} />
        </form>
      )}
    </Dialog>
  );
}
