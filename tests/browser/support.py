"""What the browser tests share (their fixtures are in conftest.py): building the dashboard, a page's
console watch, axe-core, screenshots, and registering through the UI."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "services" / "dashboard"
DIST = DASHBOARD / "dist"
AXE = DASHBOARD / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# What the build reads: a newer one of these makes `dist/` stale.
BUILD_INPUTS = ("src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")
PASSWORD = "correct horse battery"


def _newest_input() -> float:
    newest = 0.0
    for name in BUILD_INPUTS:
        path = DASHBOARD / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else []
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def _npm(*args: str) -> None:
    done = subprocess.run(["npm", "--prefix", str(DASHBOARD), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"`npm {' '.join(args)}` failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")


def build_dashboard() -> Path:
    """`dist/`, built now if it is missing or older than what it is built from (`npm ci` first if needed)."""
    lock = DASHBOARD / "package-lock.json"
    modules = DASHBOARD / "node_modules"
    if not modules.is_dir() or modules.stat().st_mtime < lock.stat().st_mtime:
        _npm("ci", "--no-audit", "--no-fund")
    index = DIST / "index.html"
    if not index.is_file() or index.stat().st_mtime < _newest_input():
        _npm("run", "build")
    return DIST


@dataclass
class PageProblems:
    """What a page logged as an error or threw, in the order it happened."""

    dashboard_url: str
    problems: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        location = message.location.get("url", "")
        if self._answer_the_app_shows(message.text, location):
            return
        self.problems.append(f"console error: {message.text} (at {location or 'unknown'})")

    def _answer_the_app_shows(self, text: str, location: str) -> bool:
        """The API's 4xx answers (no session yet, a refused name), a store's trace on a platform without a
        trace backend (503 `traces_unavailable`) and a connection to the API that the network cut
        (`net::ERR_…`: the app shows "Reconnecting…") are the app's to show; Chromium logs each as "Failed
        to load resource". Any other failed load (an API's 5xx, an asset) is a real problem."""
        if not (text.startswith("Failed to load resource") and location.startswith(f"{self.dashboard_url}/api/")):
            return False
        if "net::ERR_" in text:
            return True
        status = re.search(r"status of (\d{3})", text)
        code = int(status.group(1)) if status else 0
        return 400 <= code < 500 or (code == 503 and location.split("?", 1)[0].endswith("/trace"))

    def page_error(self, error: Exception) -> None:
        self.problems.append(f"uncaught: {error}")


@asynccontextmanager
async def watched_page(browser: Browser, dashboard_url: str) -> AsyncIterator[tuple[Page, PageProblems]]:
    """A page in a new context of its own (its own cookies and storage) and what it logs or throws."""
    context = await browser.new_context(base_url=dashboard_url, viewport={"width": 1280, "height": 800})
    try:
        page = await context.new_page()
        seen = PageProblems(dashboard_url)
        page.on("console", seen.console)
        page.on("pageerror", seen.page_error)
        yield page, seen
    finally:
        await context.close()


def _readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


@functools.cache
def _axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: run `npm ci` in services/dashboard (make deps does)")
    return AXE.read_text()


async def assert_accessible(page: Page, name: str) -> None:
    """axe-core on the page as it is now: no `serious` or `critical` violation (`name` says which page).
    Evaluated through the DevTools protocol, not a <script> tag, so the page's CSP stays as strict as served."""
    await page.evaluate(_axe_source())
    results = await page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe found serious or critical violations on the {name} page:\n{_readable(bad)}"


async def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot at tests/browser/artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def register(page: Page, email: str = "") -> str:
    """Sign a new user up through the UI (the register page's form) and wait for the signed-in layout."""
    email = email or f"shop-{uuid.uuid4().hex[:8]}@example.com"
    await page.goto("/register")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("button", name="Log out", exact=True).wait_for()
    return email


FIGURES = pytest.StashKey[list[str]]()


def record_figure(request: pytest.FixtureRequest, line: str) -> None:
    """A measured figure, printed in the terminal summary (conftest.py) without `-s`."""
    request.config.stash.setdefault(FIGURES, []).append(line)
    print(line)
