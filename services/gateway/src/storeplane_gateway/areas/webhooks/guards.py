"""Who may use the webhook routes: a login session, or an API token with `webhooks:read` (reads) or
`webhooks:write` (everything that changes an endpoint or sends a message). Ownership is the
service's: every request names the caller as the owner."""

from __future__ import annotations

from storeplane_gateway.areas.accounts.guards import require_scope
from storeplane_gateway.domain.principals import WEBHOOKS_READ, WEBHOOKS_WRITE

can_read_webhooks = require_scope(WEBHOOKS_READ)
can_write_webhooks = require_scope(WEBHOOKS_WRITE)
