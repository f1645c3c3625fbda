// Every user's stores, newest first, with their owners: the owner links to that user's quota.
import { Link } from "react-router";
import type { Store, StoreList } from "../../api/types";
import { EmptyState, ErrorNotice, Skeleton } from "../../components/feedback";
import { LoadMore, usePagedList, When, TableScroll } from "../integrations/shared";

export function AdminStores() {
  const list = usePagedList<StoreList, Store>(["admin", "stores"], "/api/v1/stores?all=true", (page) => page.stores);
  if (list.isPending) return <Skeleton label="Loading every store" />;
  if (list.isError) return <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />;
  if (list.items.length === 0) {
    return (
      <EmptyState title="No stores on the platform yet">
        <p>When users create stores, they are listed here with their owners.</p>
      </EmptyState>
    );
  }
  return (
    <>
      <h2>All stores</h2>
      <TableScroll label="Every store, newest first">
        <table>
          <caption className="visually-hidden">Every store, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Store</th>
              <th scope="col">Status</th>
              <th scope="col">Engine</th>
              <th scope="col">Owner</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((store) => (
              <tr key={store.id}>
                <td>
                  <Link to={`/stores/${encodeURIComponent(store.id)}`}>{store.name}</Link>
                </td>
                <td>{store.status}</td>
                <td>{store.engine}</td>
                <td>
                  {store.owner_id ? (
                    <Link to={`/admin/users/${encodeURIComponent(store.owner_id)}`} className="mono">
                      {store.owner_id}
                    </Link>
                  ) : (
                    <span className="muted">unknown</span>
                  )}
                </td>
                <td>
                  <When iso={store.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <LoadMore list={list} />
    </>
  );
}
