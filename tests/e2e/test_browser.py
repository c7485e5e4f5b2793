"""The web app in a real browser (Debian's chromium through Playwright) against a live server:
sign up, see the empty state, create an account, add a transaction, edit it inline over HTMX, and
watch the dashboard balance follow. Screenshots of the main pages go to artifacts/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # CI sets COFFER_REQUIRE_BROWSER=1 so a missing chromium fails there instead of skipping.
    pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("COFFER_REQUIRE_BROWSER"),
                       reason="needs Debian's chromium at /usr/bin/chromium (apt install chromium)"),
]


@pytest.fixture
def browser_page(live_server_url):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(10_000)
        problems: list[str] = []
        expected = "the server responded with a status of 422"  # a form sent back with its errors

        def on_console(msg):
            if msg.type == "error" and expected not in msg.text:
                problems.append(msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        page.problems = problems
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _nav(page, section: str) -> None:
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=section).click()


def _shot(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_a_new_person_signs_up_creates_an_account_adds_a_transaction_and_sees_the_balance(browser_page):
    from playwright.sync_api import expect

    page = browser_page

    page.goto("/accounts/login/")
    _shot(page, "01-sign-in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Robin Example")
    page.get_by_label("Email").fill("robin@example.test")
    page.get_by_label("Password").fill("a-long-enough-passphrase")
    _shot(page, "02-sign-up")
    page.get_by_role("button", name="Sign up").click()

    # The personal space's dashboard, empty, saying what to do first.
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    expect(page.get_by_test_id("current-tenant")).to_have_text("Robin Example")
    _shot(page, "03-dashboard-empty")

    page.get_by_role("link", name="Create your first account").click()
    page.get_by_label("Opening balance").fill("")
    page.get_by_role("button", name="Create account").click()  # nothing filled in: errors next to the fields
    expect(page.locator("#id_name_error")).to_have_text("This field is required.")
    expect(page.locator("#id_opening_balance_error")).to_have_text("This field is required.")
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    _shot(page, "04-account-form-errors")
    page.get_by_label("Name").fill("Everyday")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Opening balance").fill("100")
    page.get_by_label("Bank or institution").fill("Example Bank")
    _shot(page, "05-account-form")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("account-balance")).to_contain_text("100.00")

    page.get_by_role("link", name="Add transaction").click()
    page.get_by_label("Amount").fill("-12.50")
    page.get_by_label("Description").fill("Lunch <b>with</b> team")
    _shot(page, "06-transaction-form")
    page.get_by_role("button", name="Add transaction").click()
    expect(page.get_by_text("Transaction of -12.50 EUR added.")).to_be_visible()
    expect(page.locator("td.desc").first).to_contain_text("Lunch <b>with</b> team")  # shown as text
    _shot(page, "07-transactions")

    _nav(page, "Dashboard")
    expect(page.get_by_test_id("total-EUR")).to_have_text(re.compile(r"^87\.50\s+EUR$"))
    _shot(page, "08-dashboard")

    # Inline edit over HTMX: the row becomes a form, and saving swaps the new row in place.
    _nav(page, "Transactions")
    url_before = page.url
    page.get_by_role("link", name="Edit").first.click()
    editing = page.locator("tr.editing")
    expect(editing).to_be_visible()
    assert page.url == url_before  # no navigation: htmx swapped the row
    _shot(page, "09-inline-edit")
    editing.get_by_label("Amount").fill("-20")
    editing.get_by_role("button", name="Save").click()
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(page.locator("td.amount").first).to_contain_text("-20.00")

    _nav(page, "Dashboard")
    expect(page.get_by_test_id("total-EUR")).to_have_text(re.compile(r"^80\.00\s+EUR$"))

    # The tenant switcher is in reach and lists the space.
    page.locator("details.switcher > summary").click()
    expect(page.locator(".switcher .menu-panel")).to_contain_text("Robin Example")
    _shot(page, "10-tenant-switcher", full_page=False)
    page.keyboard.press("Escape")

    # Phone width: the same pages stay usable.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _shot(page, "11-dashboard-phone")
    _nav(page, "Transactions")
    _shot(page, "12-transactions-phone")

    assert page.problems == [], page.problems  # no CSP violation, no failed asset, no script error
