// The user's stores, newest first, each with its live status badge; the quota in use; create a store.
import { useState } from "react";
import { Link } from "react-router";
import { EmptyState, ErrorNotice, Skeleton, toastError } from "../../components/feedback";
import { useAccount, useStores } from "../../stores/queries";
import { useStoreEvents } from "../../stores/useStoreEvents";
import { CreateStoreDialog, ENGINES } from "./CreateStoreDialog";
import { LiveStatus } from "./LiveStatus";
import { RelativeTime } from "./RelativeTime";
import { StatusBadge } from "./StatusBadge";
import type { Store } from "../../api/types";

function engineLabel(engine: string): string {
  return ENGINES.find((choice) => choice.id === engine)?.label ?? engine;
}

function Quota() {
  const account = useAccount();
  if (account.isPending) return <span className="quota">Quota…</span>;
  if (account.isError) return <span className="quota">Quota unavailable</span>;
  const { in_use, limit } = account.data.quota;
  return (
    <span className="quota" aria-label={`Stores in use: ${in_use} of ${limit}`}>
      {in_use} of {limit} stores
    </span>
  );
}

function StoreCard({ store }: { store: Store }) {
  return (
    <li className="store-card">
      <Link to={`/stores/${store.id}`} className="store-name">
        {store.name}
      </Link>
      <StatusBadge status={store.status} />
      <span className="store-meta">{engineLabel(store.engine)}</span>
      <span className="store-meta">
        Created <RelativeTime iso={store.created_at} />
      </span>
    </li>
  );
}

export function StoresPage() {
  const stores = useStores();
  const live = useStoreEvents();
  const [creating, setCreating] = useState(false);
  const list = stores.data?.pages.flatMap((page) => page.stores) ?? [];

  const more = async () => {
    const result = await stores.fetchNextPage();
    if (result.isError) toastError(result.error);
  };

  return (
    <section aria-labelledby="stores-title">
      <div className="page-head">
        <h1 id="stores-title">Stores</h1>
        <LiveStatus state={live} />
        <Quota />
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create store
        </button>
      </div>
      {stores.isPending && <Skeleton label="Loading stores" />}
      {stores.isError && <ErrorNotice error={stores.error} onRetry={() => void stores.refetch()} />}
      {stores.isSuccess && list.length === 0 && (
        <EmptyState title="No stores yet">
          <p>Choose “Create store”, give it a name and pick an engine: it is ready in a few minutes.</p>
        </EmptyState>
      )}
      {list.length > 0 && (
        <ul className="store-list" aria-label="Your stores">
          {list.map((store) => (
            <StoreCard key={store.id} store={store} />
          ))}
        </ul>
      )}
      {stores.hasNextPage && (
        <button type="button" onClick={() => void more()} disabled={stores.isFetchingNextPage}>
          {stores.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
      <CreateStoreDialog open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}
