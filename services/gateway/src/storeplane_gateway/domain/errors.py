"""What the gateway's rules and ports may raise: a backing service that is down, or a refusal.

Each kind says what happened, with the values that explain it, and nothing about HTTP:
`storeplane_gateway.http.error_answers` is the one place that turns each into its answer
(status, code, message, headers).
"""

from __future__ import annotations

from collections.abc import Sequence

from storeplane_gateway.domain.slots import StoreSlot


class DependencyUnavailable(Exception):
    """A backing service did not answer; the client may retry later."""


class BusUnavailable(DependencyUnavailable):
    """NATS is not connected, or JetStream did not acknowledge in time."""


class PublishUnconfirmed(BusUnavailable):
    """JetStream did not acknowledge in time: the event may be stored all the same (only the ack lost)."""


class StatusUnavailable(DependencyUnavailable):
    """The status service did not answer a query in time (or answered nonsense)."""


class ProvisionerUnavailable(DependencyUnavailable):
    """The provisioner did not answer, or could not reach the cluster; nothing was revealed."""


class NotifierUnavailable(DependencyUnavailable):
    """The notifier did not answer a webhook request in time (or answered nonsense)."""


class TracesUnavailable(DependencyUnavailable):
    """The trace backend (Jaeger's query API) did not answer, or none is configured."""


class DatabaseUnavailable(DependencyUnavailable):
    """The gateway's Postgres did not answer."""


class PasswordHashingBusy(DependencyUnavailable):
    """Every password-hashing slot is busy and the queue for them is full."""


class Refused(Exception):
    """A rule refused the command or the query: nothing was done."""


class InvalidCursor(Refused):
    """A list's `cursor` is not one the list handed out; `reason` says what is wrong with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidEmail(Refused):
    """The email is not an address like name@example.com."""


class WeakPassword(Refused):
    """The password is shorter than `min_length` characters."""

    def __init__(self, min_length: int) -> None:
        super().__init__(min_length)
        self.min_length = min_length


class PasswordTooLong(Refused):
    """The password is longer than `max_length` characters."""

    def __init__(self, max_length: int) -> None:
        super().__init__(max_length)
        self.max_length = max_length


class InvalidCredentials(Refused):
    """Wrong email or wrong password (the same refusal for both); the next attempt must wait `retry_after` seconds."""

    def __init__(self, retry_after: float = 0.0) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class LoginThrottled(Refused):
    """Too many failed logins for the email: it may be tried again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class InvalidRefreshToken(Refused):
    """The refresh token cannot be exchanged for new tokens."""


class RefreshTokenUnreadable(InvalidRefreshToken):
    """Not a refresh token of ours, or an expired one."""


class RefreshAccountGone(InvalidRefreshToken):
    """The refresh token's account no longer exists."""


class RefreshTokenSpent(InvalidRefreshToken):
    """The refresh token was used already (its session is now ended), or its session has ended."""


class EmailTaken(Refused):
    """A user with this email is already registered."""

    def __init__(self, email: str) -> None:
        super().__init__(email)
        self.email = email


class TokenNameTaken(Refused):
    """The user already has an API token with this name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class InvalidTokenName(Refused):
    """An API token's name is empty, longer than `max_length`, or holds control characters."""

    def __init__(self, *, max_length: int, control_characters: bool = False) -> None:
        super().__init__(max_length)
        self.max_length = max_length
        self.control_characters = control_characters


class InvalidScopes(Refused):
    """An API token needs at least one scope, and only scopes that exist."""

    def __init__(self, *, known: Sequence[str], unknown: str | None = None) -> None:
        super().__init__(unknown or "none")
        self.known = tuple(known)
        self.unknown = unknown  # the first unknown one; None: none was given at all


class TokenLimitReached(Refused):
    """The user has `limit` API tokens already."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class TokenNotFound(Refused):
    """The user has no API token with this id."""

    def __init__(self, token_id: str) -> None:
        super().__init__(token_id)
        self.token_id = token_id  # as the client gave it


class UserNotFound(Refused):
    """No user has this id."""

    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id  # as the client gave it


class InvalidStoreLimit(Refused):
    """A user's own store limit must be 0 to `max_limit` (or none: the default)."""

    def __init__(self, max_limit: int) -> None:
        super().__init__(max_limit)
        self.max_limit = max_limit


class QuotaExceeded(Refused):
    """The owner already has `limit` live stores."""

    def __init__(self, *, limit: int, in_use: int) -> None:
        super().__init__(f"limit {limit}, in use {in_use}")
        self.limit = limit
        self.in_use = in_use


class NameTaken(Refused):
    """A live store already holds the name."""

    def __init__(self, holder: StoreSlot) -> None:
        super().__init__(holder.name)
        self.holder = holder


class InvalidStoreName(Refused):
    """The name cannot be a store's; `reason` says which rule it breaks."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedEngine(Refused):
    """The engine is not one users may order now."""

    def __init__(self, engine: str, *, installable: Sequence[str], known: bool) -> None:
        super().__init__(engine)
        self.engine = engine
        self.installable = tuple(installable)
        self.known = known  # it has a chart, but is not offered yet


class StoreNotFound(Refused):
    """The caller has no store with this id (another user's store looks exactly the same)."""

    def __init__(self, store_id: str) -> None:
        super().__init__(store_id)
        self.store_id = store_id  # as the client gave it


class AdminOnly(Refused):
    """Only an admin's login session may do `action`."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


class StoreInWrongState(Refused):
    """The store's status does not allow the command."""

    def __init__(self, name: str, status: str) -> None:
        super().__init__(f"{name}: {status}")
        self.name = name
        self.status = status


class StoreBusy(StoreInWrongState):
    """The store is being provisioned: deleting it now would race the provisioning steps."""


class AlreadyDeleting(StoreInWrongState):
    """The store is already being deleted, or is deleted."""


class NotFailed(StoreInWrongState):
    """Only a failed store can be retried."""


class StoreNotReady(StoreInWrongState):
    """A store's credentials exist once it is ready."""


class CredentialsAlreadyRevealed(Refused):
    """The store's credentials were shown once already."""


class TooManyStreams(Refused):
    """The caller (or this gateway process) has as many event streams open as allowed."""

    def __init__(self, limit: int, *, per_user: bool) -> None:
        super().__init__(limit)
        self.limit = limit
        self.per_user = per_user


class InvalidStreamTicket(Refused):
    """The stream ticket is unknown, expired or already used."""


class WebhookRefused(Refused):
    """The notifier turned a webhook request down; `reason` is its message, which says what to fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookNotFound(WebhookRefused):
    """The caller has no such webhook endpoint, or the endpoint no such message (another user's looks the same)."""


class InvalidWebhook(WebhookRefused):
    """The endpoint's URL, target, event types or another value cannot be accepted; `problem` names which."""

    def __init__(self, problem: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem  # invalid_url, target_refused, invalid_events or invalid_request


class WebhookLimitReached(WebhookRefused):
    """The caller has as many webhook endpoints as a user may have."""
