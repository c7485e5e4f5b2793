"""/api/v1/tenants/{tenant}/reports/... through the whole ASGI app, JSON and files."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from coffer.insights import reports
from coffer.ledger import services as ledger_services
from coffer.ledger import transfers
from coffer.ledger.models import Budget, Category, ExchangeRate
from tests import factories
from tests.querycount import count_queries

PERIOD = {"date_from": "2024-02-01", "date_to": "2024-02-29"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/reports", *map(str, rest)])


def category(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


@pytest.fixture
def books(transactional_db):
    owner, viewer = factories.user(), factories.user()
    tenant = factories.organization(owner, viewer=[viewer])
    eur = factories.account(tenant, name="Checking", currency="EUR", opening_balance="100.00")
    savings = factories.account(tenant, name="Savings", currency="EUR")
    usd = factories.account(tenant, name="Dollars", currency="USD")
    # categories whose names a spreadsheet would run as a formula
    formula = ledger_services.category_create(tenant=tenant, actor=owner, name="=HYPERLINK(\"http://x\")", kind="expense")
    minus = ledger_services.category_create(tenant=tenant, actor=owner, name="-Misc", kind="expense")
    rows = [
        (eur, "2024-02-01", "2000.00", "Salary"), (eur, "2024-02-01", "-30.00", "Groceries"),
        (eur, "2024-02-10", "10.00", "Groceries"), (eur, "2024-02-29", "-12.50", formula.name),
        (eur, "2024-02-29", "-1.50", minus.name), (usd, "2024-02-15", "-40.00", "Clothing"),
        (eur, "2024-03-01", "-99.00", "Groceries"), (eur, "2024-01-31", "-98.00", "Groceries"),
    ]
    for account, day, amount, name in rows:
        factories.transaction(account, amount=amount, booked_on=dt.date.fromisoformat(day),
                              category_id=category(tenant, name).pk)
    out = factories.transaction(eur, amount="-500.00", booked_on=dt.date(2024, 2, 5))
    into = factories.transaction(savings, amount="500.00", booked_on=dt.date(2024, 2, 6))
    transfers.link(tenant=tenant, actor=owner, transaction_id=out.pk, pair_id=into.pk)
    return {"tenant": tenant, "owner": owner, "viewer": viewer, "eur": eur, "usd": usd}


def test_cashflow_report_in_json(client_api, books):
    tenant, headers = books["tenant"], factories.auth_headers(books["viewer"])
    ExchangeRate.objects.create(tenant=tenant, date=dt.date(2024, 2, 1), from_currency="USD", to_currency="EUR",
                                rate=Decimal("0.5"))
    response = client_api.get(url(tenant, "cashflow"), headers=headers, params={**PERIOD, "convert": "true"})
    assert response.status_code == 200, response.text
    body = response.json()
    eur = next(c for c in body["currencies"] if c["currency"] == "EUR")
    # 2000 salary; 30 - 10 refund + 12.50 + 1.50 spent; the 500 transfer left out; Jan 31 and Mar 1 outside
    assert eur["total"] == {"start": "2024-02-01", "end": "2024-02-29", "income": "2000.00", "expenses": "34.00",
                            "net": "1966.00"}
    assert body["converted"]["total"]["expenses"] == "54.00"  # 34 + 40 USD x 0.5
    assert body["conversion"] == {"base": "EUR", "complete": True, "missing": [], "rates": [
        {"currency": "USD", "base": "EUR", "on": "2024-02-29", "rate_date": "2024-02-01", "rate": "0.5", "inverse": False}]}


def test_category_net_worth_and_budget_reports_in_json(client_api, books):
    tenant, headers = books["tenant"], factories.auth_headers(books["viewer"])
    by_category = client_api.get(url(tenant, "categories"), headers=headers, params=PERIOD)
    assert by_category.status_code == 200, by_category.text
    eur = next(c for c in by_category.json()["currencies"] if c["currency"] == "EUR")
    assert [(line["name"], line["amount"]) for line in eur["spending"]] == [
        ("Groceries", "20.00"), ('=HYPERLINK("http://x")', "12.50"), ("-Misc", "1.50")]
    assert eur["spending_groups"][0]["name"] == "Food" and eur["total_spending"] == "34.00"
    assert by_category.json()["converted"] is None and by_category.json()["conversion"] is None

    worth = client_api.get(url(tenant, "net-worth"), headers=headers, params={"date_from": "2024-01-01", "date_to": "2024-02-29"})
    assert worth.status_code == 200, worth.text
    eur_points = next(c for c in worth.json()["currencies"] if c["currency"] == "EUR")["points"]
    assert eur_points == [{"day": "2024-01-31", "balance": "2.00"}, {"day": "2024-02-29", "balance": "1968.00"}]

    Budget.objects.create(tenant=tenant, category=category(tenant, "Food"), amount="25", currency="EUR",
                          starts_on=dt.date(2024, 1, 1))
    vs = client_api.get(url(tenant, "budgets"), headers=headers, params={"on": "2024-02-29"})
    assert vs.status_code == 200, vs.text
    (item,) = vs.json()["items"]
    assert (item["progress"]["spent"], item["progress"]["left"], item["progress"]["status"]) == ("20.00", "5.00", "warning")


def test_without_dates_reports_end_today_in_the_persons_time_zone(client_api, books):
    viewer = books["viewer"]
    viewer.time_zone = "Pacific/Kiritimati"
    viewer.save(update_fields=["time_zone"])
    today = reports.today_in("Pacific/Kiritimati")
    headers = factories.auth_headers(viewer)
    cashflow = client_api.get(url(books["tenant"], "cashflow"), headers=headers).json()
    assert cashflow["date_to"] == today.isoformat()
    assert dt.date.fromisoformat(cashflow["date_from"]).day == 1
    by_category = client_api.get(url(books["tenant"], "categories"), headers=headers).json()
    assert by_category["date_from"] == today.replace(day=1).isoformat()


def test_csv_exports_escape_formulas_and_keep_amounts_numbers(client_api, books):
    tenant, headers = books["tenant"], factories.auth_headers(books["viewer"])
    response = client_api.get(url(tenant, "categories", "export"), headers=headers, params={**PERIOD, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="categories-2024-02-01-2024-02-29.csv"'
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["Currency", "Side", "Group", "Category", "Amount"]
    by_name = {line[3]: line for line in lines[1:]}
    assert by_name["'=HYPERLINK(\"http://x\")"][2] == "'=HYPERLINK(\"http://x\")"  # its own group, escaped too
    assert by_name["'-Misc"][4] == "1.50"
    assert not any(cell.startswith(("=", "+", "@")) or (cell.startswith("-") and not cell[1:2].isdigit())
                   for line in lines for cell in line)
    cashflow = client_api.get(url(tenant, "cashflow", "export"), headers=headers, params=PERIOD)
    rows = list(csv.reader(io.StringIO(cashflow.content.decode("utf-8-sig"))))
    assert rows[1] == ["EUR", "2024-02-01", "2024-02-29", "2000.00", "34.00", "1966.00"]


@pytest.mark.parametrize("report, params, sheet", [
    ("cashflow", {**PERIOD, "convert": "true"}, "Cash flow"),
    ("categories", PERIOD, "By category"),
    ("net-worth", PERIOD, "Net worth"),
    ("budgets", {"on": "2024-02-29"}, "Budget vs actual"),
])
def test_xlsx_exports_open_in_openpyxl_with_strings_numbers_and_dates(client_api, books, report, params, sheet):
    tenant = books["tenant"]
    Budget.objects.create(tenant=tenant, category=category(tenant, "Food"), amount="25", currency="EUR",
                          starts_on=dt.date(2024, 1, 1))
    ExchangeRate.objects.create(tenant=tenant, date=dt.date(2024, 2, 1), from_currency="USD", to_currency="EUR",
                                rate=Decimal("0.5"))
    response = client_api.get(url(tenant, report, "export"), headers=factories.auth_headers(books["viewer"]),
                              params={**params, "format": "xlsx"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == sheet
    rows = list(book[sheet].iter_rows(values_only=True))
    assert rows[1:], rows
    if report == "cashflow":
        assert book.sheetnames == ["Cash flow", "Rates"]
        assert rows[1] == ("EUR", dt.datetime(2024, 2, 1), dt.datetime(2024, 2, 29), 2000, 34, 1966)
        assert rows[-1][0] == "EUR (converted)" and rows[-1][4] == 54
    if report == "categories":
        cells = [row[3] for row in rows[1:]]
        assert '=HYPERLINK("http://x")' in cells  # a plain string in the sheet, not a formula
        assert all(cell.data_type != "f" for line in book[sheet].iter_rows() for cell in line)
    if report == "budgets":
        assert rows[1][0] == "Food" and rows[1][8] == 20


def test_viewers_read_reports_and_strangers_get_404(client_api, books):
    tenant = books["tenant"]
    stranger = factories.user()
    theirs = factories.organization(stranger)
    for path in ("cashflow", "categories", "net-worth", "budgets", "cashflow/export", "categories/export",
                 "net-worth/export", "budgets/export"):
        assert client_api.get(url(tenant, path), headers=factories.auth_headers(books["viewer"])).status_code == 200, path
        assert client_api.get(url(tenant, path), headers=factories.auth_headers(stranger)).status_code == 404, path
    # their own (empty) tenant shows nothing of ours
    body = client_api.get(url(theirs, "cashflow"), headers=factories.auth_headers(stranger), params=PERIOD).json()
    assert body["currencies"] == []
    worth = client_api.get(url(theirs, "net-worth"), headers=factories.auth_headers(stranger), params=PERIOD).json()
    assert worth["currencies"] == []


@pytest.mark.parametrize("params", [
    {"date_from": "2024-03-01", "date_to": "2024-02-01"},
    {"date_from": "2000-01-01", "date_to": "2024-02-01"},
    {"date_from": "2024-02-30"},
    {"format": "pdf"},
])
def test_bad_periods_and_formats_are_422(client_api, books, params):
    response = client_api.get(url(books["tenant"], "cashflow", "export"), headers=factories.auth_headers(books["viewer"]),
                              params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_report_endpoints_run_a_bounded_number_of_queries(client_api, books):
    tenant, headers = books["tenant"], factories.auth_headers(books["viewer"])
    ExchangeRate.objects.create(tenant=tenant, date=dt.date(2024, 1, 1), from_currency="USD", to_currency="EUR",
                                rate=Decimal("0.5"))

    def count() -> list[int]:
        seen = []
        for path in ("cashflow", "categories", "net-worth"):
            params = {"date_from": "2023-01-01", "date_to": "2024-12-31", "convert": "true"}
            with count_queries() as queries:
                assert client_api.get(url(tenant, path), headers=headers, params=params).status_code == 200
            seen.append(len(queries))
        return seen

    client_api.get(f"/api/v1/tenants/{tenant.slug}/accounts", headers=headers)  # warm the cached membership look-up
    before = count()
    for i in range(60):
        factories.transaction(books["usd"], amount="-1.00", booked_on=dt.date(2023, 1 + i % 12, 1 + i % 28),
                              category_id=category(tenant, "Clothing").pk)
    assert count() == before
    assert max(before) <= 8
