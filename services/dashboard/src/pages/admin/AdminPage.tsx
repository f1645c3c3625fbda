// The admins' pages, as tabs with their own addresses: every store with its owner, a user's quota, and the
// audit trail. The route guard (session/guards.tsx) keeps everyone else out; the API checks again.
import { Navigate, NavLink, Route, Routes } from "react-router";
import { AdminStores } from "./AdminStores";
import { AuditTrail } from "./AuditTrail";
import { UserLookup, UserQuotaPage } from "./UserQuota";

export function AdminPage() {
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      <nav aria-label="Admin" className="tabs">
        <NavLink to="/admin/stores">All stores</NavLink>
        <NavLink to="/admin/users">User quotas</NavLink>
        <NavLink to="/admin/audit">Audit trail</NavLink>
      </nav>
      <Routes>
        <Route index element={<Navigate to="stores" replace />} />
        <Route path="stores" element={<AdminStores />} />
        <Route path="users" element={<UserLookup />} />
        <Route path="users/:userId" element={<UserQuotaPage />} />
        <Route path="audit" element={<AuditTrail />} />
        <Route path="*" element={<Navigate to="stores" replace />} />
      </Routes>
    </section>
  );
}
