"""The integrations pages in a real browser, on a real platform: an API token made through the UI is
shown once and then works against the API (and stops working once revoked); a webhook endpoint made
through the UI points at the project's real receiver on loopback (the platform allows loopback targets,
as `make up` does), whose test message arrives verified with the secret the UI showed once, and shows in
the endpoint's delivery log, from where it is sent again. axe-core and a screenshot on every page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from infra.local.servers import free_port
from tests.browser.narrow import assert_narrow_and_dark
from tests.browser.support import assert_accessible, register, screenshot
from tests.e2e.test_webhook_walkthrough import ReceiverProcess


@pytest.fixture
def receiver_output() -> Iterator[list[ReceiverProcess]]:
    """The receivers a test started, stopped after it."""
    started: list[ReceiverProcess] = []
    yield started
    for receiver in started:
        receiver.stop()


async def _allow_clipboard(page: Page, dashboard_url: str) -> None:
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=dashboard_url)


async def test_an_api_token_is_shown_once_works_and_is_revoked(page: Page, dashboard_url: str) -> None:
    await register(page)
    await _allow_clipboard(page, dashboard_url)
    await page.get_by_role("link", name="API tokens").click()
    await expect(page.get_by_role("heading", name="No API tokens yet")).to_be_visible()
    await assert_accessible(page, "API tokens (empty)")
    await screenshot(page, "integrations-tokens-empty")

    await page.get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="Create an API token")
    await dialog.get_by_label("Name").fill("ci deploys")
    await dialog.get_by_role("checkbox", name=re.compile("stores:write")).check()
    await assert_accessible(page, "create an API token")
    await dialog.get_by_role("button", name="Create token").click()

    shown = page.get_by_role("textbox", name="API token", exact=True)
    await expect(shown).to_have_value(re.compile(r"^sp_"))
    token = await shown.input_value()
    await expect(page.get_by_text("shown this once")).to_be_visible()
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_text("Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == token
    await assert_accessible(page, "the new API token")
    await screenshot(page, "integrations-token-created")
    await page.get_by_role("button", name="Done").click()

    row = page.get_by_role("row", name=re.compile("ci deploys"))
    await expect(row).to_contain_text("stores:write")
    await expect(row).to_contain_text("never")
    assert token not in await page.content()  # the list never shows a secret
    await assert_accessible(page, "API tokens")
    await screenshot(page, "integrations-tokens")
    await assert_narrow_and_dark(page, "API tokens", "integrations-tokens-360-dark")

    async with httpx.AsyncClient(base_url=dashboard_url) as api:
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await api.get("/api/v1/stores", headers=bearer)).status_code == 200
        await page.get_by_role("button", name="Revoke ci deploys").click()
        await page.get_by_role("dialog", name="Revoke this token?").get_by_role("button", name="Revoke").click()
        await expect(page.get_by_role("heading", name="No API tokens yet")).to_be_visible()
        assert (await api.get("/api/v1/stores", headers=bearer)).status_code == 401


async def _wait_printed(receiver: ReceiverProcess, line: re.Pattern[str], count: int = 1) -> list[str]:
    async with asyncio.timeout(60):
        while len(found := line.findall(receiver.printed())) < count:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.2)
    return found


async def test_a_webhook_to_a_loopback_receiver_gets_a_test_shown_in_the_delivery_log(
    page: Page, dashboard_url: str, tmp_path: Path, receiver_output: list[ReceiverProcess]
) -> None:
    await register(page)
    await page.get_by_role("link", name="Webhooks").click()
    await expect(page.get_by_role("heading", name="No webhook endpoints yet")).to_be_visible()
    await assert_accessible(page, "webhooks (empty)")
    await screenshot(page, "integrations-webhooks-empty")

    await page.get_by_role("button", name="Add endpoint").click()
    dialog = page.get_by_role("dialog", name="Add a webhook endpoint")
    url = dialog.get_by_label("URL", exact=True)
    await url.fill("ftp://example.com/hooks")
    await dialog.get_by_role("button", name="Add endpoint").click()
    await expect(url).to_have_attribute("aria-invalid", "true")  # the API's invalid_url, at the field
    await assert_accessible(page, "add a webhook endpoint (refused)")
    await screenshot(page, "integrations-webhook-refused")

    port = free_port()
    await url.fill(f"http://127.0.0.1:{port}/hooks")
    await dialog.get_by_role("checkbox", name=re.compile("All events")).check()
    await dialog.get_by_role("button", name="Add endpoint").click()
    shown = page.get_by_role("textbox", name="Signing secret", exact=True)
    await expect(shown).to_have_value(re.compile(r"^whsec_"))
    receiver = ReceiverProcess(tmp_path / "receiver.out", port, await shown.input_value())
    receiver_output.append(receiver)
    await assert_accessible(page, "the endpoint's signing secret")
    await page.get_by_role("link", name="Open the endpoint").click()

    await expect(page.get_by_role("heading", name="Webhook endpoint")).to_be_visible()
    await expect(page.get_by_role("heading", name="No messages yet")).to_be_visible()
    await page.get_by_role("button", name="Send a test").click()
    await expect(page.get_by_text("Test message queued")).to_be_visible()
    [message_id] = await _wait_printed(receiver, re.compile(r"^webhook\.test (\S+) verified=True -> 204$", re.M))

    log = page.get_by_role("region", name="Delivery log")
    attempts = log.get_by_role("table", name=f"Attempts of {message_id}")
    succeeded = log.get_by_text("succeeded", exact=True)
    # The log shows the attempt, then the message's outcome, once the notifier has recorded each.
    async with asyncio.timeout(30):
        while not (await attempts.get_by_text("HTTP 204").is_visible() and await succeeded.is_visible()):
            await log.get_by_role("button", name="Refresh").click()
            await asyncio.sleep(0.5)
    await assert_accessible(page, "the webhook endpoint")
    await screenshot(page, "integrations-webhook")
    await assert_narrow_and_dark(page, "the webhook endpoint", "integrations-webhook-360-dark")

    await log.get_by_role("button", name=f"Resend webhook.test {message_id}").click()
    await expect(page.get_by_text("webhook.test queued to go again")).to_be_visible()
    again = await _wait_printed(receiver, re.compile(r"^webhook\.test (\S+) verified=True -> 204$", re.M), count=2)
    assert again == [message_id, message_id]  # a resend keeps the message's webhook-id

    await page.get_by_role("link", name="← All endpoints").click()
    await expect(page.get_by_role("row", name=re.compile(f"127.0.0.1:{port}"))).to_contain_text("Enabled")
    await assert_accessible(page, "webhooks")
    await screenshot(page, "integrations-webhooks")
