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
        # Leaving a page before it finished loading aborts its document and whatever it was still fetching
        # (net::ERR_ABORTED): not a broken asset. A missing or failing asset answers with an error status.
        def on_request_failed(request):
            if request.failure != "net::ERR_ABORTED":
                problems.append(f"failed: {request.url} ({request.failure})")

        def on_response(response):
            if response.request.resource_type in {"stylesheet", "script", "image", "font"} and response.status >= 400:
                problems.append(f"failed: {response.url} ({response.status})")

        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
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


@pytest.fixture
def acme_books(transactional_db):
    """An owner (email confirmed) and their organization, made before the browser's event loop starts."""
    from tests import factories

    owner = factories.user("olga@example.test", name="Olga Owner")
    owner.email_confirmed_at = owner.date_joined
    owner.save(update_fields=["email_confirmed_at"])
    return factories.organization(owner, name="Acme Books")


def test_an_owner_invites_a_member_who_signs_up_from_the_emailed_link_and_lands_in_the_organization(
        acme_books, browser_page, live_server_url):
    from django.core import mail
    from playwright.sync_api import expect

    from tests import factories

    tenant = acme_books
    page = browser_page

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("olga@example.test")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("current-tenant")).to_be_visible()  # signed in and landed
    page.goto(f"/t/{tenant.slug}/organization/")
    page.get_by_role("link", name="Manage members").click()
    page.get_by_role("link", name="Invite someone").click()

    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_role("button", name="Send invitation").click()  # refused next to the field
    expect(page.locator("#id_email_error")).to_have_text("Enter a valid email address.")
    page.get_by_label("Email address").fill("ines@example.test")
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to ines@example.test.")).to_be_visible()
    _shot(page, "people-01-invitations")

    # The invitee opens the emailed link in a browser of their own and signs up on the spot.
    link = re.search(r"https?://[^/\s]+(/invitations/accept\?token=\S+)", mail.outbox[-1].body).group(1)
    other = page.context.browser.new_context(base_url=live_server_url, viewport={"width": 390, "height": 844})
    try:
        invitee = other.new_page()
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name="Join Acme Books")).to_be_visible()
        invitee.get_by_label("Your name").fill("Ines Invitee")
        invitee.get_by_label("Password").fill("a-long-enough-passphrase")
        _shot(invitee, "people-02-invitation-accept-phone")
        invitee.get_by_role("button", name="Create account and join").click()
        expect(invitee.get_by_test_id("current-tenant")).to_have_text("Acme Books")
        expect(invitee.get_by_text("Welcome to Acme Books.")).to_be_visible()
        invitee.goto(link)  # the link worked once
        expect(invitee.get_by_text("This invitation has already been used.")).to_be_visible()
    finally:
        other.close()

    # The owner sees the new member and changes their role in place (HTMX swaps the row).
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Members").click()
    row = page.locator("tr", has_text="ines@example.test")
    expect(row).to_be_visible()
    row.get_by_label("Role of Ines Invitee").select_option("viewer")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("tr", has_text="ines@example.test").get_by_label("Role of Ines Invitee")).to_have_value("viewer")
    _shot(page, "people-03-members")

    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Audit trail").click()
    expect(page.locator("code", has_text="membership.update").first).to_be_visible()
    _shot(page, "people-04-audit")

    page.locator("details.usermenu > summary").click()
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Spreadsheet sync")
    page.get_by_label("Access").select_option("read-write")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("shown only this once")
    _shot(page, "people-05-tokens")

    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Time zone").select_option("Europe/Zurich")
    page.get_by_label("Date format").select_option("dmy")
    page.get_by_label("Number format").select_option("1.234,56")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_test_id("format-preview")).to_contain_text("-1.234,56")
    _shot(page, "people-06-profile")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/t/{tenant.slug}/members/")
    _shot(page, "people-07-members-phone")

    assert page.problems == [], page.problems


@pytest.fixture
def categorized_books(transactional_db):
    """An owner's organization with a month of transactions (some categorized, some tagged), made before the
    browser's event loop starts."""
    import datetime as dt

    from coffer.ledger import services as ledger_services
    from coffer.ledger.models import Category
    from tests import factories

    owner = factories.user("tess@example.test", name="Tess Owner")
    owner.email_confirmed_at = owner.date_joined
    owner.save(update_fields=["email_confirmed_at"])
    tenant = factories.organization(owner, name="Tidy Books")
    account = factories.account(tenant, name="Everyday", opening_balance="2000")
    ledger_services.tag_create(tenant=tenant, actor=owner, name="holiday")
    first = dt.date.today().replace(day=1)

    def cat(name):
        return Category.objects.get(tenant=tenant, name=name).pk

    for day, amount, text, category in [
        (1, "-850.00", "Rent", cat("Rent / mortgage")), (2, "-64.20", "Supermarket", cat("Groceries")),
        (3, "-38.50", "Pizza place", cat("Restaurants")), (4, "-45.00", "Train tickets", cat("Public transport")),
        (5, "-12.99", "Streaming service", cat("Streaming")), (6, "-23.10", "Corner shop", None),
        (7, "-9.80", "Bakery", None), (8, "3200.00", "Salary", cat("Salary")),
    ]:
        factories.transaction(account, amount=amount, booked_on=first + dt.timedelta(days=min(day, 27) - 1),
                              description=text, category_id=category, tags=["holiday"] if day == 3 else [])
    return tenant


def test_an_owner_filters_bulk_categorizes_exports_and_sees_spending_by_category(categorized_books, browser_page):
    from playwright.sync_api import expect

    from tests import factories

    page, tenant = browser_page, categorized_books
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("tess@example.test")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    _nav(page, "Transactions")
    page.get_by_text("Filter and sort").click()
    page.get_by_label("Category", exact=True).select_option(label="Uncategorized")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr[id^=txn-]")).to_have_count(2)
    _shot(page, "tx-01-filters-open")

    # Bulk: tick every row on the page, put them in Groceries, tag them.
    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    page.get_by_label("Category for the selected transactions").select_option(label="Food › Groceries")
    _shot(page, "tx-02-bulk-bar")
    page.get_by_role("button", name="Set category").click()
    expect(page.get_by_text("Category set on 2 transactions.")).to_be_visible()
    expect(page.get_by_test_id("no-transactions")).to_be_visible()  # none uncategorized any more

    page.goto(f"/t/{tenant.slug}/transactions/")
    page.get_by_label("Select all on this page").check()
    page.get_by_label("Tag for the selected transactions").fill("holiday")
    page.get_by_label("Tag for the selected transactions").press("Enter")  # Enter means "Add tag"
    expect(page.get_by_text("Tag “holiday” added to 7 transactions.")).to_be_visible()
    expect(page.locator("a.tag-chip", has_text="#holiday")).to_have_count(8)
    _shot(page, "tx-03-categorized")

    # Inline edit with category and tags.
    row = page.locator("tr", has_text="Bakery")
    row.get_by_role("link", name="Edit").click()
    editing = page.locator("tr.editing")
    editing.get_by_label("Category").select_option(label="Food › Restaurants")
    editing.get_by_label("Tags").fill("")
    editing.get_by_role("button", name="Save").click()
    expect(page.locator("tr", has_text="Bakery").get_by_test_id("category")).to_have_text("Food › Restaurants")

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    assert download.value.suggested_filename.startswith("tidy-books-transactions-")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Date,Value date,Account") and "Food › Restaurants" in text

    _nav(page, "Categories")
    expect(page.get_by_test_id("category-tree")).to_contain_text("Groceries")
    _shot(page, "tx-04-categories")
    page.get_by_role("navigation", name="Categories and tags").get_by_role("link", name="Tags").click()
    _shot(page, "tx-05-tags")

    _nav(page, "Dashboard")
    spending = page.locator("#spending")
    expect(spending.locator("rect.bar.cat")).to_have_count(4)  # Housing, Food, Transport, Subscriptions
    spending.get_by_label("Period").select_option("custom")
    expect(spending.get_by_label("From")).to_be_visible()
    spending.get_by_label("Period").select_option("this_year")
    expect(spending.get_by_label("From")).to_be_hidden()
    spending.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("spending-period")).to_have_text(str(__import__("datetime").date.today().year))
    spending.locator("summary", has_text="Show the numbers").click()
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "tx-06-dashboard-spending")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/t/{tenant.slug}/transactions/")
    page.get_by_label("Select all on this page").check()
    _shot(page, "tx-07-transactions-phone")
    page.goto(f"/t/{tenant.slug}/categories/")
    _shot(page, "tx-08-categories-phone", full_page=False)

    assert page.problems == [], page.problems
