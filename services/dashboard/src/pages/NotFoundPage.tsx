import { Link } from "react-router";
import { EmptyState } from "../components/feedback";

export function NotFoundPage() {
  return (
    <EmptyState title="No such page">
      <p>
        The address may be mistyped, or the page has moved. <Link to="/">Go to your stores</Link>.
      </p>
    </EmptyState>
  );
}
