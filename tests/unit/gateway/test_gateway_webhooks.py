"""The webhook routes on the notifier's fake: secrets shown once, owners only, scopes, the cap, refusals
that say what to fix, an absent notifier as a 503, audit records without secrets, limits and replays."""

from __future__ import annotations

import ipaddress
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.app import create_app
from storeplane_gateway.areas.webhooks.services import URL_PATTERN
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import FakeNotifier, Fakes
from tests.unit.gateway.helpers import Account, assert_error, sign_up

WEBHOOKS = "/api/v1/webhooks"
RECEIVER = "http://127.0.0.1:9/hooks"
ENDPOINT_FIELDS = {
    "id",
    "url",
    "events",
    "description",
    "enabled",
    "disabled_reason",
    "disabled_at",
    "created_at",
    "updated_at",
    "last_success_at",
    "failing_since",
    "exhausted_messages",
    "previous_secret_expires_at",
}


async def add_webhook(
    client: AsyncTestClient[Litestar], owner: Account, *, url: str = RECEIVER, events: list[str] | None = None
) -> dict[str, Any]:
    body = {"url": url, "events": events or ["store.ready"], "description": "ERP"}
    response = await client.post(WEBHOOKS, json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def make_token(client: AsyncTestClient[Litestar], owner: Account, scopes: list[str]) -> Account:
    response = await client.post(
        "/api/v1/tokens", json={"name": " ".join(scopes), "scopes": scopes}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    return Account(id=owner.id, email=owner.email, token=response.json()["token"])


async def test_an_endpoint_is_made_with_its_secret_shown_once(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    response = await client.post(
        WEBHOOKS, json={"url": RECEIVER, "events": ["store.ready", "store.failed"]}, headers=ada.headers
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert set(made) == ENDPOINT_FIELDS | {"secret"}
    assert made["secret"].startswith("whsec_")
    assert (made["url"], made["events"], made["description"], made["enabled"]) == (
        RECEIVER,
        ["store.ready", "store.failed"],
        "",
        True,
    )
    assert response.headers["location"] == f"{WEBHOOKS}/{made['id']}"
    assert response.headers["cache-control"] == "no-store"

    listing = await client.get(WEBHOOKS, headers=ada.headers)
    assert listing.status_code == 200
    assert [endpoint["id"] for endpoint in listing.json()["webhooks"]] == [made["id"]]
    read = await client.get(f"{WEBHOOKS}/{made['id']}", headers=ada.headers)
    assert read.status_code == 200 and set(read.json()) == ENDPOINT_FIELDS
    assert made["secret"] not in listing.text + read.text


async def test_an_endpoint_is_changed_and_deleted(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    made = await add_webhook(client, ada)
    one = f"{WEBHOOKS}/{made['id']}"

    changed = await client.patch(one, json={"events": ["*"], "enabled": False}, headers=ada.headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["events"], changed.json()["enabled"], changed.json()["disabled_reason"]) == (
        ["*"],
        False,
        "user",
    )
    assert changed.json()["url"] == RECEIVER and changed.json()["description"] == "ERP"  # left alone
    again = await client.patch(one, json={"enabled": True, "description": "billing"}, headers=ada.headers)
    assert (again.json()["enabled"], again.json()["description"]) == (True, "billing")

    assert (await client.delete(one, headers=ada.headers)).status_code == 204
    assert_error(await client.get(one, headers=ada.headers), 404, "webhook_not_found")
    assert (await client.get(WEBHOOKS, headers=ada.headers)).json() == {"webhooks": []}


async def test_another_users_endpoint_is_not_found_like_a_missing_one(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada, bob = await sign_up(client), await sign_up(client, "bob@example.com")
    adas = await add_webhook(client, ada)
    missing = str(uuid.uuid4())

    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("DELETE", "", None),
        ("POST", "/test", None),
        ("GET", "/deliveries", None),
        ("POST", "/recover", {"since": "2026-01-01T00:00:00Z"}),
        ("POST", "/rotate-secret", None),
        ("POST", f"/deliveries/{uuid.uuid4()}/resend", None),
    ]:
        theirs = await client.request(method, f"{WEBHOOKS}/{adas['id']}{suffix}", json=body, headers=bob.headers)
        nothing = await client.request(method, f"{WEBHOOKS}/{missing}{suffix}", json=body, headers=bob.headers)
        message = assert_error(theirs, 404, "webhook_not_found")
        assert message.replace(adas["id"], missing) == assert_error(nothing, 404, "webhook_not_found"), suffix
    assert fakes.webhooks.endpoints_by_id[adas["id"]].enabled  # bob changed nothing
    assert (await client.get(WEBHOOKS, headers=bob.headers)).json() == {"webhooks": []}


async def test_a_malformed_id_is_not_found_without_asking_the_notifier(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    fakes.webhooks.available = False  # asking would be a 503
    malformed = await client.get(f"{WEBHOOKS}/not%20an%20id", headers=ada.headers)
    message = assert_error(malformed, 404, "webhook_not_found")
    assert "'not an id'" in message and "GET /api/v1/webhooks" in message
    long = await client.get(f"{WEBHOOKS}/ep_{'0' * 70}", headers=ada.headers)
    assert_error(long, 404, "webhook_not_found")
    resend = await client.post(f"{WEBHOOKS}/ep_{uuid.uuid4().hex}/deliveries/n%C3%B6pe/resend", headers=ada.headers)
    assert "'nöpe'" in assert_error(resend, 404, "webhook_not_found")


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"url": "ftp://example.com/x", "events": ["store.ready"]}, "invalid_url", "ftp://example.com/x"),
        ({"url": "not a url", "events": ["store.ready"]}, "invalid_url", "not a url"),
        # A control character Python's `\s` takes for a space and JSON Schema's does not: refused by both.
        ({"url": "https://example.com/a\x1fb", "events": ["store.ready"]}, "invalid_url", "example.com/a\\x1fb"),
        ({"url": "http://127.0.0.2/hooks", "events": ["store.ready"]}, "target_refused", "127.0.0.2"),
        # An IPv6 address in brackets is a URL's host like any other: the address check judges it.
        ({"url": "http://[::1]:9/hooks", "events": ["store.ready"]}, "target_refused", "::1"),
        ({"url": "http://[not-hex]/hooks", "events": ["store.ready"]}, "invalid_url", "[not-hex]"),
        ({"url": RECEIVER, "events": ["store.exploded"]}, "invalid_events", "store.exploded"),
        ({"url": RECEIVER, "events": []}, "invalid_events", "store.ready"),
    ],
)
async def test_values_the_notifier_refuses_say_what_to_fix(
    client: AsyncTestClient[Litestar], body: dict[str, Any], code: str, says: str
) -> None:
    ada = await sign_up(client)
    assert says in assert_error(await client.post(WEBHOOKS, json=body, headers=ada.headers), 422, code)


@pytest.mark.parametrize(
    "body",
    [
        {"url": RECEIVER},
        {"url": RECEIVER, "events": "store.ready"},
        {"url": RECEIVER, "events": ["store.ready"], "secret": "whsec_mine"},
        [RECEIVER],
    ],
)
async def test_a_malformed_body_is_a_400(client: AsyncTestClient[Litestar], body: Any) -> None:
    ada = await sign_up(client)
    assert_error(await client.post(WEBHOOKS, json=body, headers=ada.headers), 400, "invalid_body")


async def test_a_patch_is_checked_like_a_create(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    one = f"{WEBHOOKS}/{(await add_webhook(client, ada))['id']}"
    assert_error(await client.patch(one, json={"url": "http://127.0.0.2/"}, headers=ada.headers), 422, "target_refused")
    assert_error(await client.patch(one, json={"events": ["nope"]}, headers=ada.headers), 422, "invalid_events")
    assert_error(await client.patch(one, json={"enabled": "yes"}, headers=ada.headers), 400, "invalid_body")
    assert_error(await client.patch(one, json={"owner_id": "x"}, headers=ada.headers), 400, "invalid_body")


async def test_the_cap_on_endpoints_is_a_409_that_says_what_to_do(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    fakes.webhooks.max_endpoints = 2
    ada, bob = await sign_up(client), await sign_up(client, "bob@example.com")
    for _ in range(2):
        await add_webhook(client, ada)
    refused = await client.post(WEBHOOKS, json={"url": RECEIVER, "events": ["*"]}, headers=ada.headers)
    assert "delete an endpoint you no longer use" in assert_error(refused, 409, "webhook_limit_reached")
    await add_webhook(client, bob)  # the cap is per user


async def test_api_tokens_need_the_webhook_scopes(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    made = await add_webhook(client, ada)
    stores_reader = await make_token(client, ada, ["stores:read", "stores:write"])
    reader = await make_token(client, ada, ["webhooks:read"])
    writer = await make_token(client, ada, ["webhooks:write"])
    body = {"url": RECEIVER, "events": ["store.ready"]}

    for response in [
        await client.get(WEBHOOKS, headers=stores_reader.headers),
        await client.post(WEBHOOKS, json=body, headers=stores_reader.headers),
        await client.post(WEBHOOKS, json=body, headers=reader.headers),
        await client.post(f"{WEBHOOKS}/{made['id']}/rotate-secret", headers=reader.headers),
        await client.get(WEBHOOKS, headers=writer.headers),
    ]:
        assert "webhooks:" in assert_error(response, 403, "insufficient_scope")
    assert [e["id"] for e in (await client.get(WEBHOOKS, headers=reader.headers)).json()["webhooks"]] == [made["id"]]
    assert (await client.get(f"{WEBHOOKS}/{made['id']}/deliveries", headers=reader.headers)).status_code == 200
    assert (await client.post(WEBHOOKS, json=body, headers=writer.headers)).status_code == 201


async def test_a_silent_notifier_is_a_503_with_retry_after(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    made = await add_webhook(client, ada)
    fakes.webhooks.available = False
    for response in [
        await client.get(WEBHOOKS, headers=ada.headers),
        await client.post(WEBHOOKS, json={"url": RECEIVER, "events": ["*"]}, headers=ada.headers),
        await client.post(f"{WEBHOOKS}/{made['id']}/test", headers=ada.headers),
    ]:
        assert "notifier" in assert_error(response, 503, "notifier_unavailable")
        assert response.headers["retry-after"] == "7"
    assert (await client.get("/health")).status_code == 200  # stores and the rest go on


async def test_deliveries_are_paged_filtered_resent_and_recovered(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    made = await add_webhook(client, ada)
    one = f"{WEBHOOKS}/{made['id']}"
    tested = await client.post(f"{one}/test", headers=ada.headers)
    assert tested.status_code == 202, tested.text
    assert (tested.json()["event_type"], tested.json()["status"]) == ("webhook.test", "pending")
    failed = fakes.webhooks.add_message(made["id"], event_type="store.ready", status="failed")

    first = await client.get(f"{one}/deliveries", params={"limit": 1}, headers=ada.headers)
    assert first.status_code == 200, first.text
    assert [m["id"] for m in first.json()["deliveries"]] == [failed.id]  # newest first
    rest = await client.get(
        f"{one}/deliveries", params={"limit": 1, "before": first.json()["next_before"]}, headers=ada.headers
    )
    assert [m["id"] for m in rest.json()["deliveries"]] == [tested.json()["id"]]
    assert rest.json()["next_before"] is None
    following = await client.get(first.json()["next"], headers=ada.headers)  # the scheme that replaces `before`
    assert first.headers["link"] == f'<{first.json()["next"]}>; rel="next"' and "limit=1" in first.json()["next"]
    assert [m["id"] for m in following.json()["deliveries"]] == [tested.json()["id"]]
    assert following.json()["next"] is None and "link" not in following.headers
    wrong = await client.get(f"{one}/deliveries", params={"cursor": "W10"}, headers=ada.headers)
    assert_error(wrong, 400, "invalid_cursor")
    only_failed = await client.get(f"{one}/deliveries", params={"status": "failed"}, headers=ada.headers)
    assert [m["id"] for m in only_failed.json()["deliveries"]] == [failed.id]

    since = (failed.created_at - timedelta(seconds=1)).isoformat()
    recovered = await client.post(f"{one}/recover", json={"since": since}, headers=ada.headers)
    assert (recovered.status_code, recovered.json()) == (202, {"queued": 1})
    resent = await client.post(f"{one}/deliveries/{failed.id}/resend", headers=ada.headers)
    assert (resent.status_code, resent.json()["id"], resent.json()["status"]) == (202, failed.id, "pending")
    unknown = await client.post(f"{one}/deliveries/{uuid.uuid4()}/resend", headers=ada.headers)
    assert_error(unknown, 404, "webhook_not_found")


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"status": "lost"}, {"before": "yesterday"}]
)
async def test_bad_delivery_queries_are_400s(client: AsyncTestClient[Litestar], params: dict[str, Any]) -> None:
    ada = await sign_up(client)
    made = await add_webhook(client, ada)
    response = await client.get(f"{WEBHOOKS}/{made['id']}/deliveries", params=params, headers=ada.headers)
    assert_error(response, 400, "invalid_request")


async def test_rotating_gives_a_new_secret_and_keeps_the_old_one_a_while(client: AsyncTestClient[Litestar]) -> None:
    ada = await sign_up(client)
    made = await add_webhook(client, ada)
    rotated = await client.post(f"{WEBHOOKS}/{made['id']}/rotate-secret", headers=ada.headers)
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != made["secret"]
    expires = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)


async def test_every_command_is_audited_without_its_secret(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    ada = await sign_up(client)
    with structlog.testing.capture_logs() as logs:
        made = await add_webhook(client, ada)
        one = f"{WEBHOOKS}/{made['id']}"
        rotated = (await client.post(f"{one}/rotate-secret", headers=ada.headers)).json()
        await client.patch(one, json={"description": "x"}, headers=ada.headers)
        await client.post(f"{one}/test", headers=ada.headers)
        await client.post(f"{one}/recover", json={"since": "2026-01-01T00:00:00Z"}, headers=ada.headers)
        await client.post(f"{one}/deliveries/{uuid.uuid4()}/resend", headers=ada.headers)
        await client.delete(one, headers=ada.headers)
        await client.get(WEBHOOKS, headers=ada.headers)  # a read: not a command

    webhook_entries = [entry for entry in fakes.audit.entries if "webhook" in entry.action]
    assert [(e.action, e.outcome, e.target) for e in webhook_entries] == [
        ("create_webhook", "succeeded", made["id"]),
        ("rotate_webhook_secret", "succeeded", made["id"]),
        ("update_webhook", "succeeded", made["id"]),
        ("test_webhook", "succeeded", made["id"]),
        ("recover_webhook_messages", "succeeded", made["id"]),
        ("resend_webhook_message", "refused", made["id"]),
        ("delete_webhook", "succeeded", made["id"]),
    ]
    trail = b"".join(msgspec.json.encode(entry) for entry in fakes.audit.entries) + repr(logs).encode()
    for secret in (made["secret"], rotated["secret"]):
        assert secret.encode() not in trail


async def test_a_repeated_idempotency_key_sends_one_test_message(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    made = await add_webhook(client, ada)
    headers = {**ada.headers, "Idempotency-Key": "test-once"}
    first = await client.post(f"{WEBHOOKS}/{made['id']}/test", headers=headers)
    again = await client.post(f"{WEBHOOKS}/{made['id']}/test", headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert len(fakes.webhooks.messages) == 1


async def test_a_create_with_an_idempotency_key_keeps_no_secret(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    """A stored answer would keep the secret in the gateway's database: creates are not replayed."""
    ada = await sign_up(client)
    headers = {**ada.headers, "Idempotency-Key": "create-once"}
    body = {"url": RECEIVER, "events": ["*"]}
    first = await client.post(WEBHOOKS, json=body, headers=headers)
    assert first.status_code == 201
    assert fakes.idempotency.rows == {}
    assert first.json()["secret"] not in repr(fakes.idempotency.rows)


async def test_webhook_commands_are_rate_limited_per_user() -> None:
    fakes = Fakes()
    fakes.webhooks = FakeNotifier()
    settings = GatewaySettings(webhook_commands_per_minute_per_user=2)
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        ada = await sign_up(client)
        for _ in range(2):
            await add_webhook(client, ada)
        refused = await client.post(WEBHOOKS, json={"url": RECEIVER, "events": ["*"]}, headers=ada.headers)
        assert_error(refused, 429, "too_many_requests")
        assert "retry-after" in refused.headers
        assert (await client.get(WEBHOOKS, headers=ada.headers)).status_code == 200  # reads are not limited


def test_a_bracketed_host_matches_the_url_form_exactly_when_it_is_an_ipv6_address() -> None:
    """The schema's URL form and the notifier's parser agree: no bracketed host passes one and fails the
    other (the fuzzer once sent `http://[7Fb.::df0F1:6CBCd0AC4f]`, of the form, refused as invalid_url)."""
    rng = random.Random(20261201)
    candidates = ["::", "::1", "1::", "7Fb.::df0F1:6CBCd0AC4f", "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "12345::"]
    for _ in range(3000):
        groups = [f"{rng.randrange(1 << 16):x}" for _ in range(rng.randrange(1, 10))]
        cut = rng.randrange(len(groups) + 1)
        candidates += [":".join(groups), ":".join(groups[:cut]) + "::" + ":".join(groups[cut:])]
    for host in candidates:
        try:
            ipaddress.IPv6Address(host)
            is_address = True
        except ValueError:
            is_address = False
        assert bool(re.fullmatch(URL_PATTERN, f"https://[{host}]:8443/hooks")) == is_address, host
