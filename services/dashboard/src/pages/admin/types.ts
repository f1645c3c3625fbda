// The answers of the admin routes (docs/api.md; the gateway's OpenAPI is the reference).

/** A user's store quota as an admin sees it: the limit in force, their own limit if any, and the use. */
export interface UserQuota {
  user_id: string;
  email: string;
  limit: number;
  override: number | null;
  in_use: number;
}

/** An account found by an admin (`GET /api/v1/admin/users?email=`). */
export interface AdminUser {
  id: string;
  email: string;
  role: string;
  /** The user's own limit of live stores; null: the platform's default. */
  store_limit: number | null;
}

export interface AdminUserList {
  users: AdminUser[];
}

/** One command given through the API, and how it ended. */
export interface AuditEntry {
  event_id: string;
  occurred_at: string;
  action: string;
  outcome: "succeeded" | "refused" | "failed";
  status_code: number;
  client_address: string;
  actor_id: string;
  actor_email: string;
  actor_role: string;
  credential: string;
  target: string;
  error_code: string;
  method: string;
  path: string;
}

export interface AuditList {
  entries: AuditEntry[];
  next?: string | null;
}
