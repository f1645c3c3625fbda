"""SSRF refusals, at creation and before every attempt. Only loopback addresses are used: the
notifier allows 127.0.0.1/32, so 127.0.0.2 stands for any address outside the allow-list."""

from __future__ import annotations

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import webhooks as w
from storeplane_notifier.bootstrap import NotifierService, bootstrap
from storeplane_notifier.settings import NotifierSettings
from tests.integration.notifier.support import OWNER, ask, create_endpoint, deliveries, wait_until

pytestmark = pytest.mark.integration


async def refusal_of(bus: NatsBroker, url: str) -> w.Refusal | None:
    request = w.CreateEndpoint(owner_id=OWNER, url=url, events=["store.ready"])
    return (await ask(bus, w.CREATE_ENDPOINT, request, w.EndpointWithSecret)).refusal


async def test_creation_refuses_addresses_outside_the_allow_list(notifier: NotifierService, bus: NatsBroker) -> None:
    refused = await refusal_of(bus, "http://127.0.0.2:9000/hooks")
    assert refused is not None and refused.code == "target_refused"
    assert "loopback" in refused.message and "STOREPLANE_WEBHOOK_ALLOWED_TARGETS" in refused.message
    assert (await refusal_of(bus, "http://[::1]:9000/hooks")) is not None  # ::1 is not allowed either
    assert (await refusal_of(bus, "http://127.0.0.1:9000/hooks")) is None  # allowed by CIDR


async def test_urls_that_are_not_acceptable_say_what_to_fix(notifier: NotifierService, bus: NatsBroker) -> None:
    for url, words in [
        ("ftp://127.0.0.1/x", "must start with"),
        ("http://user:pw@127.0.0.1:9000/x", "credentials"),
        ("http:///nohost", "no host"),
        ("http://127.0.0.1:99999/x", "not a valid URL"),
    ]:
        refused = await refusal_of(bus, url)
        assert refused is not None and refused.code == "invalid_url" and words in refused.message, (url, refused)
    request = w.CreateEndpoint(owner_id=OWNER, url="http://127.0.0.1:9/x", events=["store.exploded"])
    refused = (await ask(bus, w.CREATE_ENDPOINT, request, w.EndpointWithSecret)).refusal
    assert refused is not None and refused.code == "invalid_events" and "store.ready" in refused.message


async def test_production_accepts_https_only(notifier_settings: NotifierSettings, bus: NatsBroker) -> None:
    async with bootstrap(notifier_settings.model_copy(update={"env": "production"})):
        refused = await refusal_of(bus, "http://127.0.0.1:9000/hooks")
        assert refused is not None and refused.code == "invalid_url" and "https://" in refused.message
        assert (await refusal_of(bus, "https://127.0.0.1:9443/hooks")) is None


async def test_every_attempt_checks_the_target_again(notifier_settings: NotifierSettings, bus: NatsBroker) -> None:
    """An endpoint accepted while the operator allowed it is refused once the allow-list no longer does."""
    wide = notifier_settings.model_copy(update={"webhook_allowed_targets": ("127.0.0.0/8",)})
    async with bootstrap(wide):
        endpoint, _ = await create_endpoint(bus, "http://127.0.0.2:9/hooks")
    async with bootstrap(notifier_settings):
        test = await ask(bus, w.SEND_TEST, w.SendTest(owner_id=OWNER, endpoint_id=endpoint.id), w.MessageReply)
        assert test.message is not None
        message_id = test.message.id

        async def attempted() -> list[w.AttemptView]:
            found = [m for m in await deliveries(bus, endpoint.id) if m.id == message_id]
            return found[0].attempts if found else []

        attempts = await wait_until(attempted)
    assert attempts[0].status_code is None and attempts[0].latency_ms == 0.0
    assert attempts[0].error.startswith("target refused: 127.0.0.2 is a loopback address")
