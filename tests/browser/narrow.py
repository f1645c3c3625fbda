"""A page at a phone's width in dark mode: the integrations and admin browser tests check that their pages
work at 360 px (nothing wider than the screen) and stay accessible in the dark theme."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.support import assert_accessible, screenshot

# The outermost elements that reach past the screen's right edge, to say what to fix.
_TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > 361 && e.parentElement.getBoundingClientRect().right <= 361)
  .slice(0, 5).map((e) => e.outerHTML.slice(0, 120))"""


async def assert_narrow_and_dark(page: Page, name: str, shot: str) -> None:
    """The page at 360 px wide in dark mode: nothing wider than the screen (tables scroll in their own
    box), and axe-core (colour contrast included) still content; then back to the desktop in light."""
    await page.set_viewport_size({"width": 360, "height": 800})
    await page.emulate_media(color_scheme="dark")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{name} is {width} px wide at 360 px; too wide: {await page.evaluate(_TOO_WIDE)}"
    await assert_accessible(page, f"{name} (360 px, dark)")
    await screenshot(page, shot)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.emulate_media(color_scheme="light")
