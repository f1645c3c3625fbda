"""The admin pages in a real browser, on a real platform: a user sees "Admins only"; an account made
admin by the operator's command (`storeplane-gateway admin grant EMAIL` on the platform's database)
sees every store's owner, finds the user by email and changes their quota, and finds that change in
the audit trail; the user then sees the new limit on their own page. axe-core and a screenshot on each."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from playwright.async_api import Page, expect

from tests.browser.narrow import assert_narrow_and_dark
from tests.browser.support import PASSWORD, assert_accessible, register, screenshot


async def _log_out(page: Page) -> None:
    await page.get_by_role("button", name="Log out", exact=True).click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()


async def _log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("button", name="Log out", exact=True).wait_for()


def _grant_admin(email: str, database_url: str) -> None:
    granted = subprocess.run(
        [sys.executable, "-m", "storeplane_gateway", "admin", "grant", email],
        env={**os.environ, "STOREPLANE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert granted.returncode == 0, granted.stdout + granted.stderr


async def test_an_admin_changes_a_quota_and_the_user_sees_the_new_limit(page: Page, browser_database: str) -> None:
    user_email = await register(page)
    await page.goto("/admin")
    await expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    await expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    await assert_accessible(page, "admins only")
    await screenshot(page, "admin-refused")
    await _log_out(page)

    admin_email = await register(page)
    _grant_admin(admin_email, browser_database)
    await _log_out(page)
    await _log_in(page, admin_email)  # the role comes with the next session
    await page.get_by_role("link", name="Admin", exact=True).click()
    await expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    await expect(page).to_have_url(re.compile("/admin/stores$"))
    await expect(
        page.get_by_role("heading", name=re.compile("No stores on the platform yet|All stores"))
    ).to_be_visible()
    await assert_accessible(page, "admin: all stores")
    await screenshot(page, "admin-stores")

    await page.get_by_role("link", name="User quotas").click()
    await page.get_by_label("User id or email").fill(user_email.upper())
    await page.get_by_role("button", name="Find user").click()
    await expect(page.get_by_role("heading", name=user_email)).to_be_visible()
    limit = page.get_by_label("Store limit", exact=True)
    await limit.fill("1001")
    await page.get_by_role("button", name="Save limit").click()
    await expect(limit).to_have_attribute("aria-invalid", "true")  # the API's invalid_quota, at the field
    await limit.fill("7")
    await page.get_by_role("button", name="Save limit").click()
    await expect(page.get_by_text(f"{user_email} may now have 7 live stores")).to_be_visible()
    await expect(page.get_by_text("0 of 7")).to_be_visible()
    await assert_accessible(page, "admin: a user's quota")
    await screenshot(page, "admin-quota")

    await page.get_by_role("link", name="Audit trail").click()
    await page.get_by_label("Action", exact=True).fill("set_quota")
    await page.get_by_role("button", name="Apply filters").click()
    trail = page.get_by_role("table", name="Audit records, newest first")
    mine = trail.get_by_role("row").filter(has_text=admin_email)
    await expect(mine).to_have_count(2)  # newest first: the 7, then the refused 1001
    await expect(mine.nth(0)).to_contain_text("succeeded (200)")
    await expect(mine.nth(1)).to_contain_text("refused (422)")
    await assert_accessible(page, "admin: the audit trail")
    await screenshot(page, "admin-audit")
    await assert_narrow_and_dark(page, "admin: the audit trail", "admin-audit-360-dark")
    await _log_out(page)

    await _log_in(page, user_email)
    await page.goto("/")  # the stores page (src/pages/stores) shows the quota in use: "0 of 7 stores"
    await expect(page.get_by_text(re.compile(r"\b0 of 7\b"))).to_be_visible()
