"""The dashboard's session in a real browser: sign up, stay logged in across reloads with no token in the
page's storage (the refresh token is an HttpOnly cookie, which Chromium keeps on http://127.0.0.1 though it is
`Secure`: loopback is a secure context), log out, log out everywhere; the first-load budget; axe on the
pages a visitor sees first; deep links; the CSP enforced and kept to."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.browser.support import (
    PASSWORD,
    assert_accessible,
    record_figure,
    register,
    screenshot,
    watched_page,
)

JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
MAX_GZIPPED_JS_BYTES = 150 * 1024
MAX_FCP_MS = 1000.0


async def token_like_storage(page: Page) -> list[str]:
    """Every localStorage or sessionStorage entry that looks like a token (by its key or its value)."""
    entries: list[list[str]] = await page.evaluate(
        "() => [localStorage, sessionStorage].flatMap((s) => Object.keys(s).map((k) => [k, s.getItem(k) ?? '']))"
    )
    return [key for key, value in entries if JWT.search(value) or re.search("token|refresh|session|jwt", key, re.I)]


async def refresh_cookie(context: BrowserContext) -> dict[str, object] | None:
    found = [dict(cookie) for cookie in await context.cookies() if cookie["name"] == "storeplane_refresh"]
    return found[0] if found else None


async def test_a_new_user_stays_logged_in_across_reloads_with_no_token_in_storage(page: Page) -> None:
    email = await register(page)
    await screenshot(page, "stores-empty")
    cookie = await refresh_cookie(page.context)
    assert cookie is not None, "Chromium did not keep the Secure refresh cookie on loopback"
    assert cookie["httpOnly"] is True and cookie["secure"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth/refresh"
    assert "storeplane_refresh" not in await page.evaluate("() => document.cookie")  # HttpOnly: no script sees it
    for _ in range(2):
        await page.reload()
        await page.get_by_role("button", name="Log out", exact=True).wait_for()
        assert await page.get_by_text(email).is_visible()
        assert await token_like_storage(page) == []
    rotated = await refresh_cookie(page.context)
    assert rotated is not None and rotated["value"] != cookie["value"]  # each reload renewed (and rotated) it


async def test_log_out_ends_the_session(page: Page) -> None:
    await register(page)
    await page.get_by_role("button", name="Log out", exact=True).click()
    await page.wait_for_url("**/login")
    assert await refresh_cookie(page.context) is None
    await page.goto("/")
    await page.wait_for_url("**/login")
    await page.get_by_role("button", name="Log in").wait_for()
    assert await token_like_storage(page) == []


@pytest.fixture
async def second_device(browser: Browser, dashboard_url: str) -> AsyncIterator[Page]:
    """Another browser (its own cookies), watched like `page`."""
    async with watched_page(browser, dashboard_url) as (other, seen):
        yield other
    assert not seen.problems, seen.problems


async def test_log_out_everywhere_ends_the_other_devices_session(page: Page, second_device: Page) -> None:
    email = await register(page)
    await second_device.goto("/login")
    await second_device.get_by_label("Email").fill(email)
    await second_device.get_by_label("Password").fill(PASSWORD)
    await second_device.get_by_role("button", name="Log in").click()
    await second_device.get_by_role("button", name="Log out", exact=True).wait_for()
    await page.get_by_role("button", name="Log out everywhere").click()
    await page.wait_for_url("**/login")
    await second_device.reload()  # its cookie's session has ended: back to the login page
    await second_device.wait_for_url("**/login")
    await second_device.get_by_role("button", name="Log in").wait_for()


SCRIPTS = (
    "() => performance.getEntriesByType('resource')"
    ".filter((e) => e.initiatorType === 'script' || e.name.endsWith('.js'))"
    ".map((e) => [e.encodedBodySize, e.decodedBodySize])"
)
FCP = "() => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime"


async def first_load(browser: Browser, dashboard_url: str) -> tuple[list[list[int]], float]:
    """The scripts (gzipped and decoded sizes) and the first contentful paint of a visit with an empty cache."""
    async with watched_page(browser, dashboard_url) as (visit, seen):
        await visit.goto("/login", wait_until="load")
        await visit.get_by_role("button", name="Log in").wait_for()
        scripts: list[list[int]] = await visit.evaluate(SCRIPTS)
        fcp: float | None = await visit.evaluate(FCP)
    assert not seen.problems, seen.problems
    assert scripts and fcp is not None
    return scripts, fcp


async def test_the_first_load_keeps_to_the_budget(
    browser: Browser, dashboard_url: str, request: pytest.FixtureRequest
) -> None:
    """Gzipped JavaScript as the browser received it (`encodedBodySize`) and first contentful paint, on first
    visits (each context's cache is empty), with the browser and the gateway running as a visitor meets them
    (one visit first, so that Chromium's own start is not counted as the page's). The paint is the best of three
    visits: the page's own cost with the least of the shared machine's other work in it; all three are printed."""
    await first_load(browser, dashboard_url)
    visits = [await first_load(browser, dashboard_url) for _ in range(3)]
    scripts = visits[0][0]
    gzipped = sum(encoded for encoded, _ in scripts)
    decoded = sum(size for _, size in scripts)
    paints = [fcp for _, fcp in visits]
    assert all(encoded < size for encoded, size in scripts if size > 1024), "JavaScript sent uncompressed"
    record_figure(
        request,
        f"dashboard first load: {len(scripts)} scripts, {gzipped / 1024:.1f} KB gzipped ({decoded / 1024:.1f} KB), "
        f"first contentful paint {min(paints):.0f} ms (visits: {', '.join(f'{p:.0f}' for p in paints)} ms; "
        "budget: 150 KB, 1000 ms)",
    )
    assert gzipped <= MAX_GZIPPED_JS_BYTES
    assert min(paints) < MAX_FCP_MS


@pytest.mark.parametrize("route", ["/login", "/register"])
async def test_the_pages_a_visitor_sees_first_are_accessible(page: Page, route: str) -> None:
    await page.goto(route)
    await page.get_by_role("heading", level=1).wait_for()
    await assert_accessible(page, route)
    await screenshot(page, route.strip("/"))


async def test_deep_links_open_the_app(page: Page, dashboard_url: str) -> None:
    answer = await page.goto("/integrations/tokens")
    assert answer is not None and answer.status == 200
    await page.wait_for_url("**/login")  # not logged in: the app's router sends the visitor to log in
    await register(page)
    await page.goto("/integrations/tokens")
    await page.get_by_role("button", name="Log out", exact=True).wait_for()
    assert page.url == f"{dashboard_url}/integrations/tokens"
    api = await page.request.get("/api/v1/nothing-here")
    assert api.status == 404 and (await api.json())["error"]["code"] == "not_found"


CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective));
"""


async def test_the_csp_is_enforced_and_the_app_keeps_to_it(browser: Browser, page: Page, dashboard_url: str) -> None:
    await page.add_init_script(CSP_WATCH)
    answer = await page.goto("/login")
    assert answer is not None
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    await register(page)
    await page.reload()
    await page.get_by_role("button", name="Log out", exact=True).wait_for()
    assert await page.evaluate("() => window.__cspViolations") == []
    # The same watch does see a violation: an inline script is refused (in a page of its own, not watched).
    async with watched_page(browser, dashboard_url) as (probe, _):
        await probe.add_init_script(CSP_WATCH)
        await probe.goto("/login")
        await probe.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
            " document.body.append(s); }"
        )
        await probe.wait_for_function("() => window.__cspViolations.length > 0")
        assert await probe.evaluate("() => window.__ran") is None


def test_the_gateway_sends_no_cors_grant(dashboard_url: str) -> None:
    preflight = httpx.options(
        f"{dashboard_url}/api/v1/auth/refresh",
        headers={
            "Origin": "http://127.0.0.2:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-storeplane-session",
        },
    )
    assert not [name for name in preflight.headers if name.lower().startswith("access-control-")]
