"""What the API answers to each domain error, decided in one place (`http/error_answers.py`)."""

from __future__ import annotations

import pytest

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
    InvalidRefreshToken,
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
    StoreInWrongState,
    StoreNotFound,
    StoreNotReady,
    TokenLimitReached,
    TokenNameTaken,
    TokenNotFound,
    TooManyStreams,
    UnsupportedEngine,
    UserNotFound,
    WeakPassword,
    WebhookLimitReached,
    WebhookNotFound,
    WebhookRefused,
)
from storeplane_gateway.domain.slots import StoreSlot
from storeplane_gateway.http.error_answers import refusal_answer, unavailable_answer

# Each refusal, and the status, code and message the API answers it with.
ANSWERS: list[tuple[Refused, int, str, str]] = [
    (InvalidEmail(), 422, "invalid_email", "email must be an address like name@example.com"),
    (
        InvalidCursor("it is not a cursor of this list"),
        400,
        "invalid_cursor",
        "`cursor` is not one this list handed out (it is not a cursor of this list); "
        "start again without `cursor`, then follow each answer's `next`",
    ),
    (WeakPassword(8), 422, "weak_password", "password must be at least 8 characters long"),
    (PasswordTooLong(1024), 422, "invalid_password", "password must be at most 1024 characters long"),
    (InvalidCredentials(), 401, "invalid_credentials", "email or password is wrong"),
    (
        LoginThrottled(2.5),
        429,
        "login_throttled",
        "too many failed logins for this account; try again in 3 seconds",
    ),
    (
        RefreshTokenUnreadable(),
        401,
        "invalid_refresh_token",
        "the refresh token is invalid or expired; log in at POST /api/v1/auth/login",
    ),
    (
        RefreshAccountGone(),
        401,
        "invalid_refresh_token",
        "the refresh token's account does not exist; register",
    ),
    (
        RefreshTokenSpent(),
        401,
        "invalid_refresh_token",
        "the refresh token was already used or its session has ended; log in at POST /api/v1/auth/login",
    ),
    (UserNotFound("nope"), 404, "user_not_found", "there is no user with id 'nope'"),
    (InvalidStoreLimit(1000), 422, "invalid_quota", "store_limit must be 0 to 1000, or null for the default"),
    (EmailTaken("ada@example.com"), 409, "email_taken", "ada@example.com is already registered; log in instead"),
    (TokenNameTaken("ci"), 409, "token_name_taken", "you already have a token named 'ci'"),
    (InvalidTokenName(max_length=64), 422, "invalid_token_name", "name must be 1 to 64 characters long"),
    (
        InvalidScopes(known=("stores:read", "stores:write"), unknown="admin"),
        422,
        "invalid_scopes",
        "unknown scope 'admin'; scopes are: stores:read, stores:write",
    ),
    (TokenLimitReached(20), 409, "token_limit_reached", "you have 20 API tokens; revoke one you no longer use"),
    (TokenNotFound("nope"), 404, "token_not_found", "you have no API token with id 'nope'; GET /api/v1/tokens"),
    (
        QuotaExceeded(limit=5, in_use=5),
        403,
        "store_quota_exceeded",
        "you have as many live stores as you may (limit 5, in use 5); "
        "delete one first, or ask an admin for a higher limit",
    ),
    (
        NameTaken(StoreSlot(store_id="s", owner_id="o", name="shop-one")),
        409,
        "name_taken",
        "a store named 'shop-one' already exists; choose another name",
    ),
    (InvalidStoreName("too short"), 422, "invalid_name", "too short"),
    (
        UnsupportedEngine("medusa", installable=["woocommerce"], known=True),
        422,
        "unsupported_engine",
        "engine 'medusa' is known but not installable yet; supported engines: woocommerce",
    ),
    (
        UnsupportedEngine("shopify", installable=[], known=False),
        422,
        "unsupported_engine",
        "unknown engine 'shopify'; supported engines: none",
    ),
    (
        StoreNotFound("nope"),
        404,
        "store_not_found",
        "you have no store with id 'nope'; GET /api/v1/stores lists yours",
    ),
    (
        AdminOnly("list every user's stores"),
        403,
        "admin_only",
        "only an admin's session may list every user's stores",
    ),
    (
        StoreBusy("shop-one", "provisioning"),
        409,
        "store_busy",
        "store 'shop-one' is being provisioned (provisioning); delete it once it is ready or failed "
        "(provisioning that runs past its deadline fails by itself)",
    ),
    (AlreadyDeleting("shop-one", "deleted"), 409, "already_deleting", "store 'shop-one' is already deleted"),
    (NotFailed("shop-one", "ready"), 409, "not_failed", "store 'shop-one' is ready; only a failed store is retried"),
    (
        StoreNotReady("shop-one", "requested"),
        409,
        "store_not_ready",
        "store 'shop-one' is requested; credentials come when ready",
    ),
    (
        CredentialsAlreadyRevealed(),
        410,
        "credentials_already_revealed",
        "this store's credentials were already shown once; reset the admin password in the store itself",
    ),
    (
        TooManyStreams(10, per_user=True),
        429,
        "too_many_streams",
        "you have 10 event streams open, the most allowed; close one (or retry later)",
    ),
    (
        TooManyStreams(2000, per_user=False),
        429,
        "too_many_streams",
        "this gateway has 2000 event streams open, the most allowed; close one (or retry later)",
    ),
    (
        InvalidStreamTicket(),
        401,
        "invalid_stream_ticket",
        "the stream ticket is unknown, expired or already used; get a new one at POST /api/v1/stream-tickets",
    ),
    (WebhookNotFound("no webhook endpoint 42"), 404, "webhook_not_found", "no webhook endpoint 42"),
    (
        InvalidWebhook("target_refused", "127.0.0.2 is a loopback address"),
        422,
        "target_refused",
        "127.0.0.2 is a loopback address",
    ),
    (
        WebhookLimitReached("you have 10 endpoints, the most allowed"),
        409,
        "webhook_limit_reached",
        "you have 10 endpoints, the most allowed; delete an endpoint you no longer use",
    ),
]


def _kinds(base: type[Exception]) -> set[type[Exception]]:
    found: set[type[Exception]] = set()
    for kind in base.__subclasses__():
        found |= {kind} | _kinds(kind)
    return found


# The headers some answers carry; every other answer has none.
HEADERS: dict[type[Refused], dict[str, str]] = {
    InvalidCredentials: {"WWW-Authenticate": "Bearer"},
    LoginThrottled: {"Retry-After": "3"},
    RefreshTokenUnreadable: {"WWW-Authenticate": "Bearer"},
    RefreshTokenSpent: {"WWW-Authenticate": "Bearer"},
    TooManyStreams: {"Retry-After": "5"},
    InvalidStreamTicket: {"WWW-Authenticate": "Bearer"},
}


@pytest.mark.parametrize(("refusal", "status", "code", "message"), ANSWERS)
def test_each_refusal_has_its_answer(refusal: Refused, status: int, code: str, message: str) -> None:
    answer = refusal_answer(refusal)
    assert (answer.status_code, answer.code, answer.message) == (status, code, message)
    assert answer.headers == HEADERS.get(type(refusal), {})


def test_token_names_and_scopes_say_what_is_wrong() -> None:
    control = refusal_answer(InvalidTokenName(max_length=64, control_characters=True))
    assert control.message.startswith("name must be printable ASCII characters")
    none = refusal_answer(InvalidScopes(known=("stores:read",)))
    assert none.message == "give the token at least one scope of: stores:read"


def test_failed_credentials_say_when_to_try_again_once_there_is_a_wait() -> None:
    answer = refusal_answer(InvalidCredentials(retry_after=1.2))
    assert answer.headers == {"WWW-Authenticate": "Bearer", "Retry-After": "2"}


def test_every_kind_of_refusal_is_answered() -> None:
    """A new kind without an answer would be a 500: each one is listed above."""
    assert _kinds(Refused) - {StoreInWrongState, InvalidRefreshToken, WebhookRefused} == {
        type(refusal) for refusal, *_ in ANSWERS
    }


@pytest.mark.parametrize(
    ("down", "code", "what"),
    [
        (PublishUnconfirmed("x"), "bus_unavailable", "so it may have been accepted"),
        (BusUnavailable("x"), "bus_unavailable", "the event bus (NATS) is unavailable"),
        (StatusUnavailable("x"), "status_unavailable", "the status service did not answer"),
        (ProvisionerUnavailable("x"), "provisioner_unavailable", "nothing was revealed"),
        (DatabaseUnavailable("x"), "database_unavailable", "the gateway's database did not answer"),
        (NotifierUnavailable("x"), "notifier_unavailable", "the notifier (webhooks) did not answer"),
        (DependencyUnavailable("x"), "service_unavailable", "a backing service is unavailable"),
    ],
)
def test_a_service_that_is_down_is_a_503_with_retry_after(down: DependencyUnavailable, code: str, what: str) -> None:
    answer = unavailable_answer(down, retry_after_seconds=7)
    assert (answer.status_code, answer.code, answer.headers) == (503, code, {"Retry-After": "7"})
    assert what in answer.message and answer.message.endswith("; retry in 7 seconds")
