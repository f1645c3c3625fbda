// Routes that need a session send the visitor to log in (and back afterwards); admin routes need the role.
import { Navigate, Outlet, useLocation } from "react-router";
import { EmptyState, Skeleton } from "../components/feedback";
import { useSession } from "./session";

export function RequireSession() {
  const { user } = useSession();
  const location = useLocation();
  if (user === undefined) return <Skeleton label="Restoring your session" />;
  if (user === null) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

export function RequireAdmin() {
  const { user } = useSession();
  if (user?.role !== "admin") {
    return (
      <EmptyState title="Admins only">
        <p>This page is for the platform's admins. Ask one if you need a store quota changed.</p>
      </EmptyState>
    );
  }
  return <Outlet />;
}
