"""The one place that says how the API answers each domain error: a refusal of the rules, or a
backing service that is down.

Services and ports raise the errors of `storeplane_gateway.domain.errors`, which say what
happened and nothing about HTTP; here each kind gets its status, code, message and headers.
`exception_handlers.py` sends them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from storeplane_gateway.domain.errors import (
    AdminOnly,
    AlreadyDeleting,
    BusUnavailable,
    CredentialsAlreadyRevealed,
    DatabaseUnavailable,
    DependencyUnavailable,
    EmailTaken,
    InvalidCredentials,
    InvalidCursor,
    InvalidEmail,
    InvalidScopes,
    InvalidStoreLimit,
    InvalidStoreName,
    InvalidStreamTicket,
    InvalidTokenName,
    InvalidWebhook,
    LoginThrottled,
    NameTaken,
    NotFailed,
    NotifierUnavailable,
    PasswordHashingBusy,
    PasswordTooLong,
    ProvisionerUnavailable,
    PublishUnconfirmed,
    QuotaExceeded,
    RefreshAccountGone,
    RefreshTokenSpent,
    RefreshTokenUnreadable,
    Refused,
    StatusUnavailable,
    StoreBusy,
    StoreNotFound,
    StoreNotReady,
    TokenLimitReached,
    TokenNameTaken,
    TokenNotFound,
    TooManyStreams,
    TracesUnavailable,
    UnsupportedEngine,
    UserNotFound,
    WeakPassword,
    WebhookLimitReached,
    WebhookNotFound,
)
from storeplane_gateway.http.errors import ApiError

log = structlog.get_logger(__name__)

RefusedT = TypeVar("RefusedT", bound=Refused)
# Each kind of refusal and how the API answers it; a kind without an entry is answered as its base.
_REFUSALS: dict[type[Refused], Callable[[Any], ApiError]] = {}


def _answers(kind: type[RefusedT]) -> Callable[[Callable[[RefusedT], ApiError]], Callable[[RefusedT], ApiError]]:
    def register(answer: Callable[[RefusedT], ApiError]) -> Callable[[RefusedT], ApiError]:
        _REFUSALS[kind] = answer
        return answer

    return register


_BEARER = {"WWW-Authenticate": "Bearer"}
_LOG_IN_AGAIN = "log in at POST /api/v1/auth/login"


@_answers(InvalidEmail)
def _invalid_email(exc: InvalidEmail) -> ApiError:
    return ApiError(422, "invalid_email", "email must be an address like name@example.com")


@_answers(WeakPassword)
def _weak_password(exc: WeakPassword) -> ApiError:
    return ApiError(422, "weak_password", f"password must be at least {exc.min_length} characters long")


@_answers(PasswordTooLong)
def _password_too_long(exc: PasswordTooLong) -> ApiError:
    return ApiError(422, "invalid_password", f"password must be at most {exc.max_length} characters long")


@_answers(InvalidCredentials)
def _invalid_credentials(exc: InvalidCredentials) -> ApiError:
    headers = dict(_BEARER)
    if exc.retry_after > 0:
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    return ApiError(401, "invalid_credentials", "email or password is wrong", headers=headers)


@_answers(LoginThrottled)
def _login_throttled(exc: LoginThrottled) -> ApiError:
    seconds = math.ceil(exc.retry_after)
    return ApiError(
        429,
        "login_throttled",
        f"too many failed logins for this account; try again in {seconds} seconds",
        headers={"Retry-After": str(seconds)},
    )


@_answers(RefreshTokenUnreadable)
def _refresh_token_unreadable(exc: RefreshTokenUnreadable) -> ApiError:
    message = f"the refresh token is invalid or expired; {_LOG_IN_AGAIN}"
    return ApiError(401, "invalid_refresh_token", message, _BEARER)


@_answers(RefreshAccountGone)
def _refresh_account_gone(exc: RefreshAccountGone) -> ApiError:
    return ApiError(401, "invalid_refresh_token", "the refresh token's account does not exist; register")


@_answers(RefreshTokenSpent)
def _refresh_token_spent(exc: RefreshTokenSpent) -> ApiError:
    message = f"the refresh token was already used or its session has ended; {_LOG_IN_AGAIN}"
    return ApiError(401, "invalid_refresh_token", message, _BEARER)


@_answers(EmailTaken)
def _email_taken(exc: EmailTaken) -> ApiError:
    return ApiError(409, "email_taken", f"{exc.email} is already registered; log in instead")


@_answers(TokenNameTaken)
def _token_name_taken(exc: TokenNameTaken) -> ApiError:
    return ApiError(409, "token_name_taken", f"you already have a token named {exc.name!r}")


@_answers(InvalidTokenName)
def _invalid_token_name(exc: InvalidTokenName) -> ApiError:
    if exc.control_characters:
        message = "name must be printable ASCII characters (letters, digits, punctuation, inner spaces)"
        return ApiError(422, "invalid_token_name", message)
    return ApiError(422, "invalid_token_name", f"name must be 1 to {exc.max_length} characters long")


@_answers(InvalidScopes)
def _invalid_scopes(exc: InvalidScopes) -> ApiError:
    known = ", ".join(exc.known)
    if exc.unknown is None:
        return ApiError(422, "invalid_scopes", f"give the token at least one scope of: {known}")
    return ApiError(422, "invalid_scopes", f"unknown scope {exc.unknown!r}; scopes are: {known}")


@_answers(TokenLimitReached)
def _token_limit_reached(exc: TokenLimitReached) -> ApiError:
    return ApiError(409, "token_limit_reached", f"you have {exc.limit} API tokens; revoke one you no longer use")


@_answers(TokenNotFound)
def _token_not_found(exc: TokenNotFound) -> ApiError:
    return ApiError(404, "token_not_found", f"you have no API token with id {exc.token_id!r}; GET /api/v1/tokens")


@_answers(UserNotFound)
def _user_not_found(exc: UserNotFound) -> ApiError:
    return ApiError(404, "user_not_found", f"there is no user with id {exc.user_id!r}")


@_answers(InvalidStoreLimit)
def _invalid_store_limit(exc: InvalidStoreLimit) -> ApiError:
    return ApiError(422, "invalid_quota", f"store_limit must be 0 to {exc.max_limit}, or null for the default")


@_answers(QuotaExceeded)
def _quota_exceeded(exc: QuotaExceeded) -> ApiError:
    return ApiError(
        403,
        "store_quota_exceeded",
        f"you have as many live stores as you may (limit {exc.limit}, in use {exc.in_use}); "
        "delete one first, or ask an admin for a higher limit",
    )


@_answers(NameTaken)
def _name_taken(exc: NameTaken) -> ApiError:
    return ApiError(409, "name_taken", f"a store named {exc.holder.name!r} already exists; choose another name")


@_answers(InvalidCursor)
def _invalid_cursor(exc: InvalidCursor) -> ApiError:
    return ApiError(
        400,
        "invalid_cursor",
        f"`cursor` is not one this list handed out ({exc.reason}); "
        "start again without `cursor`, then follow each answer's `next`",
    )


@_answers(InvalidStoreName)
def _invalid_name(exc: InvalidStoreName) -> ApiError:
    return ApiError(422, "invalid_name", exc.reason)


@_answers(UnsupportedEngine)
def _unsupported_engine(exc: UnsupportedEngine) -> ApiError:
    supported = ", ".join(exc.installable) or "none"
    if exc.known:
        message = f"engine {exc.engine!r} is known but not installable yet; supported engines: {supported}"
    else:
        message = f"unknown engine {exc.engine!r}; supported engines: {supported}"
    return ApiError(422, "unsupported_engine", message)


@_answers(StoreNotFound)
def _store_not_found(exc: StoreNotFound) -> ApiError:
    return ApiError(
        404, "store_not_found", f"you have no store with id {exc.store_id!r}; GET /api/v1/stores lists yours"
    )


@_answers(AdminOnly)
def _admin_only(exc: AdminOnly) -> ApiError:
    return ApiError(403, "admin_only", f"only an admin's session may {exc.action}")


@_answers(StoreBusy)
def _store_busy(exc: StoreBusy) -> ApiError:
    return ApiError(
        409,
        "store_busy",
        f"store {exc.name!r} is being provisioned ({exc.status}); delete it once it is ready or failed "
        "(provisioning that runs past its deadline fails by itself)",
    )


@_answers(AlreadyDeleting)
def _already_deleting(exc: AlreadyDeleting) -> ApiError:
    return ApiError(409, "already_deleting", f"store {exc.name!r} is already {exc.status}")


@_answers(NotFailed)
def _not_failed(exc: NotFailed) -> ApiError:
    return ApiError(409, "not_failed", f"store {exc.name!r} is {exc.status}; only a failed store is retried")


@_answers(StoreNotReady)
def _store_not_ready(exc: StoreNotReady) -> ApiError:
    return ApiError(409, "store_not_ready", f"store {exc.name!r} is {exc.status}; credentials come when ready")


@_answers(CredentialsAlreadyRevealed)
def _credentials_already_revealed(exc: CredentialsAlreadyRevealed) -> ApiError:
    return ApiError(
        410,
        "credentials_already_revealed",
        "this store's credentials were already shown once; reset the admin password in the store itself",
    )


# A stream slot frees when a stream ends; a client that waits this long finds one, or asks again.
STREAM_RETRY_AFTER_SECONDS = 5


@_answers(TooManyStreams)
def _too_many_streams(exc: TooManyStreams) -> ApiError:
    who = "you have" if exc.per_user else "this gateway has"
    message = f"{who} {exc.limit} event streams open, the most allowed; close one (or retry later)"
    return ApiError(429, "too_many_streams", message, {"Retry-After": str(STREAM_RETRY_AFTER_SECONDS)})


@_answers(InvalidStreamTicket)
def _invalid_stream_ticket(exc: InvalidStreamTicket) -> ApiError:
    message = "the stream ticket is unknown, expired or already used; get a new one at POST /api/v1/stream-tickets"
    return ApiError(401, "invalid_stream_ticket", message, _BEARER)


@_answers(WebhookNotFound)
def _webhook_not_found(exc: WebhookNotFound) -> ApiError:
    return ApiError(404, "webhook_not_found", exc.reason)


@_answers(InvalidWebhook)
def _invalid_webhook(exc: InvalidWebhook) -> ApiError:
    return ApiError(422, exc.problem, exc.reason)


@_answers(WebhookLimitReached)
def _webhook_limit_reached(exc: WebhookLimitReached) -> ApiError:
    return ApiError(409, "webhook_limit_reached", f"{exc.reason}; delete an endpoint you no longer use")


def refusal_answer(exc: Refused) -> ApiError:
    """How the API answers a refusal: by its kind's entry, else its nearest base's (a kind with neither is
    a bug, answered like any other: 500)."""
    for kind in type(exc).__mro__:
        if (answer := _REFUSALS.get(kind)) is not None:
            return answer(exc)
    log.error("http.unmapped_refusal", kind=type(exc).__name__)
    return ApiError(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "the gateway failed; try again later")


# The first kind that matches wins: a subclass before its base.
_UNAVAILABLE: dict[type[DependencyUnavailable], tuple[str, str]] = {
    PublishUnconfirmed: (
        "bus_unavailable",
        "the event bus (NATS) did not confirm the request in time, so it may have been accepted: "
        "look at GET /api/v1/stores before you order again",
    ),
    BusUnavailable: ("bus_unavailable", "the event bus (NATS) is unavailable"),
    StatusUnavailable: ("status_unavailable", "the status service did not answer"),
    ProvisionerUnavailable: (
        "provisioner_unavailable",
        "the provisioner could not read the store's credentials from the cluster; nothing was revealed, try again",
    ),
    DatabaseUnavailable: ("database_unavailable", "the gateway's database did not answer"),
    NotifierUnavailable: ("notifier_unavailable", "the notifier (webhooks) did not answer"),
    PasswordHashingBusy: ("busy", "the gateway is checking too many passwords at once"),
    TracesUnavailable: ("traces_unavailable", "the trace backend (Jaeger's query API) did not answer"),
}


def unavailable_answer(exc: DependencyUnavailable, *, retry_after_seconds: int) -> ApiError:
    """How the API answers a backing service that is down: 503, with when to retry."""
    code, what = next(
        (value for kind, value in _UNAVAILABLE.items() if isinstance(exc, kind)),
        ("service_unavailable", "a backing service is unavailable"),
    )
    message = f"{what}; retry in {retry_after_seconds} seconds"
    return ApiError(HTTP_503_SERVICE_UNAVAILABLE, code, message, {"Retry-After": str(retry_after_seconds)})
