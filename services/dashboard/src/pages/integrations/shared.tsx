// Pieces the integrations and admin pages share: times people read, a secret shown once, a confirmation,
// and lists that follow the API's `next` link page by page ("Load more").
import { useInfiniteQuery, type QueryKey } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import toast from "react-hot-toast/headless";
import { api } from "../../api/client";
import { Dialog } from "../../components/Dialog";
import { toastError } from "../../components/feedback";

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 31536000],
  ["month", 2592000],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return relative.format(Math.round(seconds / size), unit);
  }
  return iso;
}

/** A moment as "3 minutes ago", the exact time on hover; `fallback` when there is none. */
export function When({ iso, fallback = "never" }: { iso: string | null | undefined; fallback?: string }) {
  if (!iso) return <span className="muted">{fallback}</span>;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {relativeTime(iso)}
    </time>
  );
}

/** A secret the API shows this once: a warning first, the value, and a copy button. */
export function SecretOnce({ label, secret, children }: { label: string; secret: string; children?: ReactNode }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      toast.success("Copied");
    } catch {
      toast.error("Could not copy: select the text and copy it yourself.");
    }
  };
  return (
    <div className="secret-once">
      <p className="warning" role="note">
        ⚠ Copy it now: it is shown this once and cannot be shown again. {children}
      </p>
      <label className="secret-label">
        {label}
        <input className="mono" readOnly value={secret} onFocus={(event) => event.target.select()} />
      </label>
      <button type="button" onClick={() => void copy()}>
        Copy
      </button>
    </div>
  );
}

/** Asks before something that cannot be undone; runs `action` and closes when it succeeds. */
export function Confirm({
  title,
  verb,
  open,
  onClose,
  action,
  children,
}: {
  title: string;
  verb: string;
  open: boolean;
  onClose: () => void;
  action: () => Promise<unknown>;
  children: ReactNode;
}) {
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      await action();
      onClose();
    } catch (error) {
      toastError(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      {children}
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void run()}>
          {verb}
        </button>
      </div>
    </Dialog>
  );
}

/** The URL of the page after `current`: the API's `next` is relative (a path, or a query alone). */
export function resolveNext(current: string, next: string): string {
  const url = new URL(next, new URL(current, "http://dashboard.invalid"));
  return url.pathname + url.search;
}

/** A list the API pages: the first page at `first`, each further one where `nextOf` says (null: the end). */
export function usePagedList<Page, Item>(
  key: QueryKey,
  first: string,
  itemsOf: (page: Page) => Item[],
  nextOf: (page: Page, url: string) => string | null | undefined = (page) =>
    (page as { next?: string | null }).next,
) {
  const query = useInfiniteQuery({
    queryKey: key,
    initialPageParam: first,
    queryFn: async ({ pageParam }) => ({ url: pageParam, page: await api.get<Page>(pageParam) }),
    getNextPageParam: ({ url, page }) => {
      const next = nextOf(page, url);
      return next ? resolveNext(url, next) : undefined;
    },
  });
  const items = query.data?.pages.flatMap(({ page }) => itemsOf(page)) ?? [];
  return { ...query, items };
}

/** "Load more" under a paged list, while there is more. */
export function LoadMore({
  list,
}: {
  list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<{ error: unknown }> };
}) {
  if (!list.hasNextPage) return null;
  return (
    <p className="load-more">
      <button
        type="button"
        disabled={list.isFetchingNextPage}
        onClick={() => void list.fetchNextPage().then((result) => result.error && toastError(result.error))}
      >
        {list.isFetchingNextPage ? "Loading…" : "Load more"}
      </button>
    </p>
  );
}

/** A table that scrolls sideways in its own box on a narrow screen; focusable, so a keyboard scrolls it. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
