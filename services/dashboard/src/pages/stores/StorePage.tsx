// One store: what it is, its URLs, how far provisioning has come, what happened (live), its one-time admin
// login, its trace, and deleting it.
import { useState } from "react";
import { Link, useParams } from "react-router";
import type { Store, TimelineEntry } from "../../api/types";
import { ErrorNotice, Skeleton } from "../../components/feedback";
import { useStore, useTimeline } from "../../stores/queries";
import { useStoreTimelineEvents } from "../../stores/useStoreEvents";
import { CredentialsReveal } from "./CredentialsReveal";
import { DeleteStoreDialog } from "./DeleteStoreDialog";
import { ENGINES } from "./CreateStoreDialog";
import { LiveStatus } from "./LiveStatus";
import { RelativeTime } from "./RelativeTime";
import { StatusBadge } from "./StatusBadge";
import { StoreError } from "./StoreError";
import { StoreProgress } from "./StoreProgress";
import { Timeline } from "./Timeline";
import { TraceWaterfall } from "./TraceWaterfall";

function Details({ store }: { store: Store }) {
  const urls = Object.entries(store.urls);
  return (
    <dl className="details">
      <dt>Engine</dt>
      <dd>{ENGINES.find((choice) => choice.id === store.engine)?.label ?? store.engine}</dd>
      <dt>Namespace</dt>
      <dd>
        <code>{store.namespace}</code>
      </dd>
      <dt>Created</dt>
      <dd>
        <RelativeTime iso={store.created_at} />
      </dd>
      <dt>URLs</dt>
      <dd>
        {urls.length === 0 ? (
          <span className="muted">Once the store is ready.</span>
        ) : (
          <ul className="urls" aria-label="Store URLs">
            {urls.map(([name, url]) => (
              <li key={name}>
                {name}:{" "}
                <a href={url} target="_blank" rel="noreferrer">
                  {url}
                </a>
              </li>
            ))}
          </ul>
        )}
      </dd>
    </dl>
  );
}

function lastSequence(timeline: TimelineEntry[] | undefined): number | null | undefined {
  if (!timeline) return undefined;
  return timeline.reduce<number | null>((last, entry) => (last === null || entry.sequence > last ? entry.sequence : last), null);
}

function StoreView({ store, timeline }: { store: Store; timeline: ReturnType<typeof useTimeline> }) {
  const [deleting, setDeleting] = useState(false);
  const gone = store.status === "deleted";
  const live = useStoreTimelineEvents(store.id, timeline.isSuccess ? lastSequence(timeline.data) : undefined, gone);
  const entries = timeline.data ?? [];
  const revealed = entries.some((entry) => entry.type === "CredentialsRevealed");
  return (
    <>
      <div className="page-head">
        <h1 id="store-title">{store.name}</h1>
        <StatusBadge status={store.status} />
        {!gone && <LiveStatus state={live} />}
      </div>
      <Details store={store} />
      <StoreError store={store} />
      <h2>Progress</h2>
      {timeline.isPending && <Skeleton label="Loading progress" />}
      {timeline.isError && <ErrorNotice error={timeline.error} onRetry={() => void timeline.refetch()} />}
      {timeline.isSuccess && <StoreProgress store={store} timeline={entries} />}
      {(store.status === "ready" || store.status === "degraded") && (
        <>
          <h2>Admin login</h2>
          <CredentialsReveal storeId={store.id} revealedBefore={revealed} />
        </>
      )}
      <h2>Timeline</h2>
      {timeline.isSuccess && <Timeline entries={entries} />}
      <h2>Trace</h2>
      <TraceWaterfall storeId={store.id} />
      {!gone && (
        <>
          <h2>Delete</h2>
          <p className="muted">A store can be deleted once it is ready or has failed.</p>
          <button type="button" className="danger" onClick={() => setDeleting(true)} disabled={store.status === "deleting"}>
            Delete store…
          </button>
          <DeleteStoreDialog store={store} open={deleting} onClose={() => setDeleting(false)} />
        </>
      )}
    </>
  );
}

export function StorePage() {
  const { storeId = "" } = useParams();
  const store = useStore(storeId);
  const timeline = useTimeline(storeId);
  return (
    <section>
      <p>
        <Link to="/">← All stores</Link>
      </p>
      {store.isPending && <Skeleton label="Loading the store" />}
      {store.isError && <ErrorNotice error={store.error} onRetry={() => void store.refetch()} />}
      {store.isSuccess && <StoreView store={store.data} timeline={timeline} />}
    </section>
  );
}
