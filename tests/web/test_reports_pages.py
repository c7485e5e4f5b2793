"""Reports page (everyone reads), its CSV/.xlsx downloads, and the transfers page (everyone reads; members and
up find and unlink): figures, roles, refusals, other tenants, bad input, escaping, queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.utils import timezone

from coffer.audit.models import AuditEntry
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger import exchange_rates
from coffer.ledger.models import Category, Transaction
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

EVERYONE = ["owner", "admin", "member", "viewer"]
WRITERS = ["owner", "admin", "member"]
CUSTOM = {"period": "custom", "start": "2024-01-01", "end": "2024-03-31"}


def _cat(tenant, name: str) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages._queued_messages]


def _section(page: str, testid: str) -> str:
    found = page[page.index(f'data-testid="{testid}"'):]
    return found[:found.index("</table>")]


@pytest.fixture
def books(org):
    """Q1 2024 in EUR and USD: salary, groceries with a refund, a transfer between two EUR accounts."""
    current = factories.account(org.tenant, name="Current", opening_balance="1000")
    savings = factories.account(org.tenant, name="Savings", opening_balance="0")
    dollars = factories.account(org.tenant, name="Dollars", currency="USD", opening_balance="50")
    salary, groceries = _cat(org.tenant, "Salary"), _cat(org.tenant, "Groceries")
    factories.transaction(current, amount="2000", booked_on=dt.date(2024, 1, 1), category_id=salary.pk)
    factories.transaction(current, amount="-120.40", booked_on=dt.date(2024, 1, 31), category_id=groceries.pk)
    factories.transaction(current, amount="20.40", booked_on=dt.date(2024, 2, 3), category_id=groceries.pk)
    factories.transaction(current, amount="-300", booked_on=dt.date(2024, 3, 31), description="To savings")
    factories.transaction(savings, amount="300", booked_on=dt.date(2024, 3, 31), description="From current")
    factories.transaction(dollars, amount="-10", booked_on=dt.date(2024, 2, 10), category_id=groceries.pk)
    factories.transaction(current, amount="-5", booked_on=dt.date(2024, 4, 1), category_id=groceries.pk)  # after
    return {"current": current, "savings": savings, "dollars": dollars}


# --- the page -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_every_role_reads_the_reports_with_figures_per_currency(org, books, who):
    from coffer.ledger import transfers
    assert transfers.detect(org.tenant) == 1
    response = org.client(who).get(org.url("reports/"), CUSTOM)
    assert response.status_code == 200
    page = response.content.decode()
    eur = _section(page, "cashflow-EUR")
    # independent totals: income 2000; expenses 120.40 - 20.40 (refund); the transfer counts in neither
    assert 'data-testid="cashflow-income-EUR">2,000.00' in eur and 'data-testid="cashflow-expenses-EUR">100.00' in eur
    assert "January 2024" in eur and "March 2024" in eur and "April 2024" not in eur
    assert 'data-testid="cashflow-expenses-USD">10.00' in _section(page, "cashflow-USD")
    spending = _section(page, "categories-spending-EUR")
    assert "Groceries" in spending and "100.00" in spending
    assert "Salary" in _section(page, "categories-income-EUR")
    net = _section(page, "net-worth")
    # end of March: EUR 1000 + 2000 - 100 (transfer moves nothing), USD 50 - 10
    assert "2,900.00" in net and "40.00" in net
    for report in ("cashflow", "categories", "net-worth", "budgets"):
        assert f"/reports/{report}.csv?period=custom" in page and f"/reports/{report}.xlsx?period=custom" in page


def test_the_default_period_is_the_last_12_months(org, books):
    page = org.client("viewer").get(org.url("reports/")).content.decode()
    today = timezone.localdate()
    assert today.strftime("%B %Y") in page and 'data-testid="report-period"' in page


@pytest.mark.parametrize("query, field, message", [
    ({"period": "custom", "start": "2024-03-01", "end": "2024-01-01"}, "start", "The range starts after it ends."),
    ({"period": "custom", "end": "2024-01-01"}, "start", "Give the first day of the range."),
    ({"period": "custom", "start": "2024-01-01"}, "end", "Give the last day of the range."),
    ({"period": "custom", "start": "2000-01-01", "end": "2024-01-01"}, "start", "A range covers at most 120 months."),
    ({"period": "custom", "start": "nope", "end": "2024-01-01"}, "start", "Enter a valid date."),
    ({"period": "decade"}, "period", "Select a valid choice. decade is not one of the available choices."),
])
def test_a_bad_period_is_shown_next_to_its_field_with_no_report(org, books, query, field, message):
    response = org.client("viewer").get(org.url("reports/"), query)
    assert response.status_code == 422
    page = response.content.decode()
    after = page[page.index(f'for="id_{field}"'):]
    after = after[:after.index("</div>")]
    assert message in after
    assert 'data-testid="cashflow-EUR"' not in page
    assert org.client("viewer").get(org.url("reports/cashflow.csv"), query).status_code == 400


def test_converting_shows_base_currency_totals_and_the_rates_used_or_which_are_missing(org, books):
    from coffer.ledger import transfers
    transfers.detect(org.tenant)
    client = org.client("viewer")
    page = client.get(org.url("reports/"), {**CUSTOM, "convert": "on"}).content.decode()
    assert 'data-testid="missing-rates"' in page and "USD on" in page
    assert 'data-testid="cashflow-converted"' not in page

    for day in (dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)):
        exchange_rates.rate_create(tenant=org.tenant, actor=org.people["owner"], date=day, from_currency="USD",
                                   to_currency=org.tenant.base_currency, rate="0.5")
    page = client.get(org.url("reports/"), {**CUSTOM, "convert": "on"}).content.decode()
    assert 'data-testid="missing-rates"' not in page
    converted = _section(page, "cashflow-converted")
    # February: a 20.40 EUR refund and 10 USD x 0.5 of groceries
    february = converted[converted.index("February 2024"):]
    assert '<td class="num">-15.40</td><td class="num amount in">15.40</td>' in february[:february.index("</tr>")]
    assert "Exchange rates used" in page and "0.5" in page


def test_names_are_escaped_on_the_reports_page(org, books):
    evil = Category.objects.create(tenant=org.tenant, name="<img src=x onerror=alert(1)>", kind="expense")
    factories.transaction(books["current"], amount="-1", booked_on=dt.date(2024, 2, 2), category_id=evil.pk)
    page = org.client("viewer").get(org.url("reports/"), CUSTOM).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_reports_page_runs_a_bounded_number_of_queries_whatever_the_history(org, books):
    client = org.client("viewer")
    ledger_budgets.budget_create(tenant=org.tenant, actor=org.people["owner"], today=dt.date(2024, 3, 1),
                                 category_id=_cat(org.tenant, "Groceries").pk, amount="50")
    query = {"period": "custom", "start": "2023-01-01", "end": "2024-12-31", "convert": "on"}
    client.get(org.url("reports/"), query)
    with count_queries() as few:
        assert client.get(org.url("reports/"), query).status_code == 200
    for month in range(1, 13):
        for name in ("Groceries", "Restaurants", "Salary", "Transport"):
            factories.transaction(books["dollars"], amount="-3", booked_on=dt.date(2023, month, 5),
                                  category_id=_cat(org.tenant, name).pk)
        ledger_budgets.budget_create(tenant=org.tenant, actor=org.people["owner"], today=dt.date(2024, 3, 1),
                                     category_id=Category.objects.create(tenant=org.tenant, name=f"B{month}",
                                                                         kind="expense").pk, amount="5")
    with count_queries() as many:
        assert client.get(org.url("reports/"), query).status_code == 200
    assert len(many) == len(few) and len(many) <= 20


def test_strangers_get_404_on_reports_and_downloads(org, books):
    client = org.client("outsider")
    for url in ("reports/", "reports/cashflow.csv", "reports/budgets.xlsx", "transfers/"):
        assert client.get(org.url(url)).status_code == 404, url


# --- downloads ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_the_cash_flow_downloads_as_csv_with_the_pages_figures(org, books, who):
    from coffer.ledger import transfers
    transfers.detect(org.tenant)
    response = org.client(who).get(org.url("reports/cashflow.csv"), CUSTOM)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="cashflow-2024-01-01-2024-03-31.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Currency", "From", "To", "Income", "Expenses", "Net"]
    eur = [row for row in rows[1:] if row[0] == "EUR"]
    assert sum(Decimal(row[3]) for row in eur) == Decimal("2000") and sum(Decimal(row[4]) for row in eur) == Decimal("100")


@pytest.mark.parametrize("report", ["cashflow", "categories", "net-worth", "budgets"])
def test_every_report_downloads_as_xlsx(org, books, report):
    response = org.client("viewer").get(org.url(f"reports/{report}.xlsx"), CUSTOM)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None


def test_csv_cells_from_people_cannot_run_as_formulas(org, books):
    evil = Category.objects.create(tenant=org.tenant, name="=HYPERLINK(\"x\")", kind="expense")
    factories.transaction(books["current"], amount="-1", booked_on=dt.date(2024, 2, 2), category_id=evil.pk)
    body = org.client("viewer").get(org.url("reports/categories.csv"), CUSTOM).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body


def test_an_unknown_report_or_format_is_404(org):
    client = org.client("viewer")
    assert client.get(org.url("reports/secrets.csv")).status_code == 404
    assert client.get(org.url("reports/cashflow.pdf")).status_code == 404


# --- transfers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WRITERS)
def test_members_and_up_find_transfers_and_are_told_how_many(org, books, who):
    client = org.client(who)
    page = client.get(org.url("transfers/")).content.decode()
    assert 'data-testid="no-transfers"' in page and "Find transfers" in page

    response = client.post(org.url("transfers/detect/"))
    assert response.status_code == 302 and _messages(response) == ["Found and linked 1 transfer."]
    assert Transaction.objects.filter(tenant=org.tenant, transfer_pair__isnull=False).count() == 2
    again = client.post(org.url("transfers/detect/"))
    assert _messages(again) == ["No new transfers found."]

    page = client.get(org.url("transfers/")).content.decode()
    table = _section(page, "transfers")
    assert "Current" in table and "Savings" in table and "-300.00" in table and "Unlink" in table


@pytest.mark.parametrize("who", WRITERS)
def test_members_and_up_unlink_a_transfer(org, books, who):
    from coffer.ledger import transfers
    transfers.detect(org.tenant)
    outflow = Transaction.objects.get(tenant=org.tenant, description="To savings")
    response = org.client(who).post(org.url(f"transfers/{outflow.pk}/unlink/"))
    assert response.status_code == 302 and "count as expense and income again" in _messages(response)[0]
    assert not Transaction.objects.filter(tenant=org.tenant, transfer_pair__isnull=False).exists()
    assert AuditEntry.objects.filter(tenant=org.tenant, action="transfer.unlink").count() == 1
    assert org.client(who).post(org.url(f"transfers/{outflow.pk}/unlink/")).status_code == 404


def test_viewers_read_transfers_without_buttons_and_are_refused(org, books):
    from coffer.ledger import transfers
    transfers.detect(org.tenant)
    outflow = Transaction.objects.get(tenant=org.tenant, description="To savings")
    client = org.client("viewer")
    page = client.get(org.url("transfers/")).content.decode()
    assert "Savings" in _section(page, "transfers")
    assert "Find transfers" not in page and "Unlink" not in page and "/unlink/" not in page
    assert client.post(org.url("transfers/detect/")).status_code == 403
    assert client.post(org.url(f"transfers/{outflow.pk}/unlink/")).status_code == 403
    outflow.refresh_from_db()
    assert outflow.transfer_pair_id is not None


def test_strangers_and_other_tenants_ids_get_404_on_transfers(org, books):
    from coffer.ledger import transfers
    transfers.detect(org.tenant)
    outflow = Transaction.objects.get(tenant=org.tenant, description="To savings")
    assert org.client("outsider").post(org.url("transfers/detect/")).status_code == 404
    assert org.client("outsider").post(org.url(f"transfers/{outflow.pk}/unlink/")).status_code == 404

    other = factories.organization(org.people["outsider"], name="Other")
    a, b = factories.account(other, name="Theirs-out"), factories.account(other, name="Theirs-in")
    factories.transaction(a, amount="-7", booked_on=dt.date(2024, 5, 1))
    factories.transaction(b, amount="7", booked_on=dt.date(2024, 5, 1))
    assert transfers.detect(other) == 1
    theirs = Transaction.objects.get(tenant=other, amount=Decimal("-7"))
    client = org.client("owner")
    assert client.post(org.url(f"transfers/{theirs.pk}/unlink/")).status_code == 404
    assert client.post(org.url("transfers/not-a-uuid/unlink/")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.transfer_pair_id is not None
    page = client.get(org.url("transfers/")).content.decode()
    assert "Savings" in page and "Theirs-" not in page


def test_the_transfer_list_is_paged_with_bounded_queries(org):
    from coffer.ledger import transfers
    from coffer.web import paging
    a, b = factories.account(org.tenant, name="From"), factories.account(org.tenant, name="To")
    for i in range(3):
        factories.transaction(a, amount=f"-{i + 1}", booked_on=dt.date(2024, 1, 1 + i * 7))
        factories.transaction(b, amount=f"{i + 1}", booked_on=dt.date(2024, 1, 1 + i * 7))
    transfers.detect(org.tenant)
    client = org.client("viewer")
    client.get(org.url("transfers/"))
    with count_queries() as few:
        client.get(org.url("transfers/"))
    for i in range(paging.PAGE_SIZE):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=i * 6)
        factories.transaction(a, amount=f"-{100 + i}", booked_on=day)
        factories.transaction(b, amount=f"{100 + i}", booked_on=day)
    assert transfers.detect(org.tenant) == paging.PAGE_SIZE
    with count_queries() as many:
        first = client.get(org.url("transfers/")).content.decode()
    assert len(many) == len(few) <= 12
    assert first.count('id="transfer-') == paging.PAGE_SIZE and 'data-testid="next-page"' in first
    next_url = first[first.index('data-testid="next-page"') - 400:first.index('data-testid="next-page"')]
    next_url = next_url[next_url.rindex('href="') + 6:next_url.rindex('"')].replace("&amp;", "&")
    second = client.get(next_url).content.decode()
    assert second.count('id="transfer-') == 3 and 'data-testid="next-page"' not in second
    assert client.get(org.url("transfers/"), {"cursor": "garbage"}).status_code == 400


# --- in a real browser: screenshots -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not __import__("pathlib").Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_budgets_reports_and_transfers_in_a_browser_with_screenshots(org, live_server_url):
    from playwright.sync_api import expect, sync_playwright

    from coffer.ledger import transfers
    from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

    today = timezone.localdate()
    current = factories.account(org.tenant, name="Current", opening_balance="2500")
    savings = factories.account(org.tenant, name="Savings", opening_balance="4000")
    for name, amount, spent in (("Groceries", "400", "-352.80"), ("Restaurants", "150", "-187.25"),
                                ("Transport", "120", "-36.40"), ("Utilities", "220", "-95")):
        ledger_budgets.budget_create(tenant=org.tenant, actor=org.people["owner"], today=today,
                                     category_id=_cat(org.tenant, name).pk, amount=amount)
        factories.transaction(current, amount=spent, booked_on=today, category_id=_cat(org.tenant, name).pk,
                              description=f"{name} shop")
    for back in range(1, 6):
        day = (today.replace(day=1) - dt.timedelta(days=back * 28)).replace(day=5)
        factories.transaction(current, amount="3100", booked_on=day, category_id=_cat(org.tenant, "Salary").pk)
        factories.transaction(current, amount=f"-{900 + back * 70}", booked_on=day,
                              category_id=_cat(org.tenant, "Housing").pk)
        factories.transaction(current, amount="-500", booked_on=day, description="To savings")
        factories.transaction(savings, amount="500", booked_on=day, description="From current")
    transfers.detect(org.tenant)
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
        page.goto(f"/t/{org.tenant.slug}/")
        expect(page.get_by_test_id("budget-alerts")).to_contain_text("Restaurants")
        page.get_by_test_id("budget-alerts").screenshot(path=str(SCREENSHOTS / "budgets-01-dashboard-alerts.png"))
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Budgets").click()
        expect(page.get_by_test_id("budget-list")).to_contain_text("Over budget")
        page.screenshot(path=str(SCREENSHOTS / "budgets-02-list.png"), full_page=True)
        page.get_by_role("link", name="New budget").click()
        page.get_by_label("Amount per period").fill("0")
        page.get_by_role("button", name="Create budget").click()
        expect(page.get_by_text("Must be above 0.")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "budgets-03-form-errors.png"), full_page=True)
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Reports").click()
        expect(page.get_by_test_id("cashflow-EUR")).to_be_attached()
        page.screenshot(path=str(SCREENSHOTS / "reports-01-page.png"), full_page=True)
        page.get_by_role("link", name="Transfers").first.click()
        expect(page.get_by_test_id("transfers")).to_contain_text("Savings")
        page.screenshot(path=str(SCREENSHOTS / "reports-02-transfers.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"/t/{org.tenant.slug}/budgets/")
        page.screenshot(path=str(SCREENSHOTS / "budgets-04-list-phone.png"), full_page=True)
        page.goto(f"/t/{org.tenant.slug}/reports/")
        page.screenshot(path=str(SCREENSHOTS / "reports-03-page-phone.png"), full_page=False)
        context.close()
        browser.close()
    assert problems == []
