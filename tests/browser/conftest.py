"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a whole real platform
(NATS, Postgres, the local Kubernetes cluster, the four services) whose gateway serves the built dashboard.

What a browser test gets here:
- `dashboard_url`: the platform's gateway (session-wide), serving `services/dashboard/dist/`, built first
  when it is missing or older than its sources (a failed build fails the session, with npm's output);
- `page`: a new browser context's page at that URL (`page.goto("/")`) that FAILS the test if the page logged
  a console error (a CSP violation is one) or threw; failed loads of the API's answers are the app's to
  show, so they are not errors, but any other failed load (an asset, the favicon) is;
and in support.py:
- `watched_page(browser, dashboard_url)`: another such page (a second device), with what it logged;
- `assert_accessible(page, name)`: axe-core on the current page, zero `serious` or `critical` violations;
- `screenshot(page, name)`: `tests/browser/artifacts/<name>.png` (git-ignored);
- `register(page)`: a new user signed up through the UI, logged in on the stores page; returns the email.

Playwright's own browser download cannot reach its host here, so it drives `/usr/bin/chromium`
(infra/install-system-deps.sh installs it; `STOREPLANE_CHROMIUM` points elsewhere).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Browser, Page, async_playwright

from infra.local.servers import Server
from tests.browser.support import FIGURES, build_dashboard, watched_page
from tests.e2e.platforms import running_platform

CHROMIUM = Path(os.environ.get("STOREPLANE_CHROMIUM", "/usr/bin/chromium"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives the whole platform: marked `e2e` like tests/e2e/."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def dashboard_dist() -> Path:
    return build_dashboard()


@pytest.fixture(scope="session")
async def browser_database(postgres_server: Server) -> str:
    """A database of the browser platform's own (the e2e platform may share the session's server)."""
    name = f"browser_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.extra["admin_url"])
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return postgres_server.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def dashboard_url(
    dashboard_dist: Path, browser_database: str, kubeconfig: Path, cluster_bin: Path, servers_dir: Path
) -> Iterator[str]:
    """The gateway's base URL, on a whole platform of its own serving `dashboard_dist` at `/`."""
    extra = {
        "STOREPLANE_DASHBOARD_DIR": str(dashboard_dist),
        # Every test's users sign up, log in and renew from one address (127.0.0.1), dozens a minute: the
        # per-address limit of sign-ups, logins and refreshes (30 a minute) would answer them 429.
        "STOREPLANE_AUTH_REQUESTS_PER_MINUTE_PER_ADDRESS": "0",
    }
    with running_platform(
        servers_dir / "browser",
        database_url=browser_database,
        kubeconfig=kubeconfig,
        cluster_bin=cluster_bin,
        extra=extra,
    ) as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: run infra/install-system-deps.sh (or set STOREPLANE_CHROMIUM)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, dashboard_url: str) -> AsyncIterator[Page]:
    """A fresh context's page (its own cookies and storage) on the dashboard; fails the test on any console
    error or uncaught exception it saw."""
    async with watched_page(browser, dashboard_url) as (opened, seen):
        yield opened
    if seen.problems:
        pytest.fail("the page logged errors:\n" + "\n".join(seen.problems))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for line in config.stash.get(FIGURES, []):
        terminalreporter.write_line(line)
