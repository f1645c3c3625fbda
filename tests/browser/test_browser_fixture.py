"""The browser fixture's own watch can fail: a console error, an uncaught exception and a failed asset load
are recorded, while the API's refusals (the app's to show) are not."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.browser.support import PageProblems, watched_page


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


def test_an_apis_server_error_is_a_problem_and_its_refusals_are_not() -> None:
    """Which failed loads the watch lets pass: the API's 4xx, a trace asked of a platform without a trace
    backend (503), a connection to the API the network cut. An API's 500, any other 503 and a missing asset
    are problems the app must not hide behind a message."""
    seen = PageProblems("http://127.0.0.1:8080")
    api = "http://127.0.0.1:8080/api/v1"

    def shown(status: int, url: str) -> bool:
        return seen._answer_the_app_shows(
            f"Failed to load resource: the server responded with a status of {status}", url
        )

    assert shown(401, f"{api}/auth/refresh") and shown(422, f"{api}/stores")
    assert shown(503, f"{api}/stores/s-1/trace")
    assert seen._answer_the_app_shows("Failed to load resource: net::ERR_CONNECTION_RESET", f"{api}/stream-tickets")
    assert not shown(500, f"{api}/stores") and not shown(503, f"{api}/stores")
    assert not shown(404, "http://127.0.0.1:8080/assets/gone-0000.js")
