"""The browser fixture's own watch can fail: a console error, an uncaught exception and a failed asset load
are recorded, while the API's refusals (the app's to show) are not."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.browser.support import watched_page


async def test_the_watch_records_what_the_page_fixture_fails_on(browser: Browser, dashboard_url: str) -> None:
    async with watched_page(browser, dashboard_url) as (probe, seen):
        await probe.goto("/login")
        await probe.get_by_role("button", name="Log in").wait_for()
        assert seen.problems == []  # the app's start-up refresh was refused (no session yet): not a problem
        await probe.evaluate("() => console.error('boom')")
        await probe.evaluate("() => { setTimeout(() => { throw new Error('thrown'); }); }")
        await probe.evaluate(
            "() => new Promise((done) => { const s = document.createElement('script');"
            " s.src = '/assets/gone-0000.js'; s.onerror = done; document.head.append(s); })"
        )
        await probe.evaluate("() => fetch('/api/v1/stores')")  # a 401 the app would show: ignored
        await probe.wait_for_timeout(200)
    assert any("boom" in problem for problem in seen.problems), seen.problems
    assert any(problem.startswith("uncaught: ") and "thrown" in problem for problem in seen.problems), seen.problems
    assert any("Failed to load resource" in problem for problem in seen.problems), seen.problems
    assert not any("/api/v1/stores" in problem for problem in seen.problems), seen.problems
