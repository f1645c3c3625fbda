"""Who is calling, and the scopes that say what a credential may do on the store and webhook routes."""

from __future__ import annotations

import msgspec

from storeplane_gateway.domain.users import Role

# A login session may do everything its user may; an API token only what it was given.
STORES_READ = "stores:read"
STORES_WRITE = "stores:write"
STORES_CREDENTIALS = "stores:credentials"
WEBHOOKS_READ = "webhooks:read"  # list and read endpoints and their deliveries
WEBHOOKS_WRITE = "webhooks:write"  # make, change, delete, test, resend, recover, rotate secrets
SCOPES: tuple[str, ...] = (STORES_READ, STORES_WRITE, STORES_CREDENTIALS, WEBHOOKS_READ, WEBHOOKS_WRITE)


class Principal(msgspec.Struct, frozen=True):
    """Who is calling, and what the credential they called with allows."""

    id: str
    email: str
    role: Role
    scopes: frozenset[str]
    session_id: str = ""  # a login session (JWT)
    api_token_id: str = ""  # or an API token

    @property
    def is_admin(self) -> bool:
        """Admin powers come with an admin's login session only, never with an API token."""
        return self.role == "admin" and bool(self.session_id)
