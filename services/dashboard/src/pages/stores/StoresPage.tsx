// Placeholder of the scaffold: the page is being built (issue #14).
import { EmptyState } from "../../components/feedback";

export function StoresPage() {
  return <EmptyState title="Coming soon" />;
}
