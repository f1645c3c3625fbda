"""Admin and audit: what only admins may do through the API (a user's store limit, the audit trail),
and the operator's commands that make and unmake admins."""
