"""Expected fees, exchange rates and linking a transfer by hand in a real browser (htmx included), with
screenshots in artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from coffer.ledger import exchange_rates
from coffer.ledger import fees as ledger_fees
from coffer.ledger.models import Category, ExchangeRate, Transaction, TransferDismissal
from tests import factories


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not __import__("pathlib").Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_fees_rates_and_a_hand_made_transfer_in_a_browser_with_screenshots(org, live_server_url):
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

    today = timezone.localdate()
    current = factories.account(org.tenant, name="Current", opening_balance="2500")
    card = factories.account(org.tenant, name="Credit card")
    dollars = factories.account(org.tenant, name="Dollars", currency="USD")
    account_fees = Category.objects.get(tenant=org.tenant, name="Account fees")
    ledger_fees.expected_fee_create(tenant=org.tenant, actor=None, account_id=current.pk, name="Account fee",
                                    amount="4.90", category_id=account_fees.pk)
    ledger_fees.expected_fee_create(tenant=org.tenant, actor=None, account_id=card.pk, name="Card fee",
                                    amount="30", frequency="yearly")
    ledger_fees.expected_fee_create(tenant=org.tenant, actor=None, account_id=card.pk, name="Statement fee",
                                    amount="2", frequency="quarterly", day_tolerance=3)
    month = today.replace(day=1)
    for back in range(12):
        if back in (2, 5):
            continue  # missing
        factories.transaction(current, amount="-5.90" if back == 7 else "-4.90", booked_on=month.replace(day=3),
                              description="Account fee", category_id=account_fees.pk)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    for back in range(3):
        exchange_rates.rate_create(tenant=org.tenant, actor=None, date=today - dt.timedelta(days=back * 7),
                                   from_currency="USD", to_currency="EUR", rate=f"0.92{back}")
    exchange_rates.rate_create(tenant=org.tenant, actor=None, date=today, from_currency="GBP", to_currency="EUR",
                               rate="1.1725")
    out = factories.transaction(current, amount="-500", booked_on=today, description="To Wise USD")
    into = factories.transaction(dollars, amount="541.30", booked_on=today + dt.timedelta(days=1),
                                 description="From Current")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(10_000)
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda msg: problems.append(msg.text)
                if msg.type == "error" and "status of 422" not in msg.text else None)
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(org.people["admin"].email)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url("/accounts/login/")

        page.goto(f"/t/{org.tenant.slug}/")
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Fees").click()
        expect(page.get_by_test_id("fee-account").last).to_contain_text("Account fee")
        expect(page.locator('[data-status="missing"]').first).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "fees-01-list.png"), full_page=True)
        page.get_by_role("link", name="New expected fee").click()
        page.get_by_label("Expected amount").fill("0")
        page.get_by_role("button", name="Add expected fee").click()
        expect(page.get_by_text("Must be above 0 (what is charged).")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "fees-02-form-errors.png"), full_page=True)

        page.goto(f"/t/{org.tenant.slug}/reports/")
        page.get_by_role("link", name="Exchange rates").click()
        expect(page.get_by_test_id("base-currency")).to_have_text("EUR")
        page.locator("#id_from_currency").fill("XYZ")
        page.locator("#id_rate").fill("-1")
        page.get_by_role("button", name="Add rate").click()
        expect(page.get_by_text("Must be above 0.")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "rates-01-list-form-errors.png"), full_page=True)
        page.locator("#id_from_currency").fill("CHF")
        page.locator("#id_rate").fill("1.04")
        page.get_by_role("button", name="Add rate").click()
        expect(page.get_by_test_id("rates")).to_contain_text("1 CHF = 1.04 EUR")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#rates tr, [data-testid=rates] tbody tr").filter(has_text="1 GBP").get_by_role(
            "button", name="Delete").click()
        expect(page.get_by_test_id("rates")).not_to_contain_text("1 GBP")
        page.screenshot(path=str(SCREENSHOTS / "rates-02-list.png"), full_page=True)

        page.goto(f"/t/{org.tenant.slug}/transactions/{out.pk}/transfer/")
        expect(page.get_by_test_id("candidates")).to_contain_text("From Current")
        page.screenshot(path=str(SCREENSHOTS / "transfer-01-candidates.png"), full_page=True)
        page.get_by_test_id("candidates").get_by_role("button", name="Link").click()
        expect(page.get_by_test_id("counterpart")).to_contain_text("541.30")
        page.screenshot(path=str(SCREENSHOTS / "transfer-02-linked.png"), full_page=True)
        page.get_by_test_id("unlink").click()
        expect(page.get_by_test_id("candidates")).to_be_visible()

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"/t/{org.tenant.slug}/fees/")
        page.screenshot(path=str(SCREENSHOTS / "fees-03-list-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls, not the page
        context.close()
        browser.close()
    assert problems == []
    # linked, then unlinked by hand: a dismissal keeps detection away from the pair
    assert Transaction.objects.get(pk=out.pk).transfer_pair_id is None
    assert TransferDismissal.objects.filter(tenant=org.tenant, outflow_id=out.pk, inflow_id=into.pk).exists()
    assert ExchangeRate.objects.filter(tenant=org.tenant, from_currency="CHF").exists()
    assert not ExchangeRate.objects.filter(tenant=org.tenant, from_currency="GBP").exists()
