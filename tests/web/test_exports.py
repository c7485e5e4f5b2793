"""Exporting the transactions list: the current filter and sort as CSV and .xlsx, streamed in keyset chunks,
formula-safe, named after the tenant and the day; readers may export, strangers get 404."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from coffer.ledger import services as ledger_services
from coffer.ledger.models import Category
from coffer.web import exports
from tests import factories
from tests.querycount import count_queries

pytestmark = [
    pytest.mark.django_db,
    # The test client is synchronous: it drains the async body at once (ASGI streams it chunk by chunk).
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators"),
]


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="100")


@pytest.fixture
def rows(org, account):
    owner = org.people["owner"]
    ledger_services.tag_create(tenant=org.tenant, actor=owner, name="holiday")
    ledger_services.tag_create(tenant=org.tenant, actor=owner, name="=cmd")
    groceries = Category.objects.get(tenant=org.tenant, name="Groceries")
    return [
        factories.transaction(account, amount="-12.50", booked_on=dt.date(2024, 3, 2), description="Market",
                              counterparty="Farm", category_id=groceries.pk, tags=["holiday", "=cmd"]),
        factories.transaction(account, amount="2500", booked_on=dt.date(2024, 3, 1), description="Salary"),
        factories.transaction(account, amount="-1.2345", booked_on=dt.date(2024, 2, 1),
                              description="=HYPERLINK(\"http://evil.test\")", counterparty="+1 555", reference="-ref",
                              note="@SUM(A1)"),
    ]


def _csv(response) -> list[list[str]]:
    body = b"".join(response).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_csv_holds_the_filtered_rows_in_the_lists_order_with_category_and_tags(org, rows):
    response = org.client("viewer").get(org.url("transactions/export.csv?amount_max=0&sort=-booked_on"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="acme-transactions-{today}.csv"'
    table = _csv(response)
    assert table[0] == list(exports.COLUMNS)
    assert table[1][:10] == ["2024-03-02", "", "Current", "EUR", "-12.50", "Market", "Farm", "", "Food › Groceries",
                             "'=cmd, holiday"]
    assert table[1][11] == str(rows[0].pk)
    assert [line[5] for line in table[1:]] == ["Market", "'=HYPERLINK(\"http://evil.test\")"]
    assert len(table) == 3  # the salary is filtered out


def test_csv_text_that_a_spreadsheet_would_run_is_escaped_and_amounts_stay_numbers(org, rows):
    table = _csv(org.client("viewer").get(org.url("transactions/export.csv?q=HYPERLINK")))
    (line,) = table[1:]
    assert line[4] == "-1.2345"  # a negative amount is a number, not a formula: no quote
    assert line[5:8] == ["'=HYPERLINK(\"http://evil.test\")", "'+1 555", "'-ref"]
    assert line[10] == "'@SUM(A1)"


def test_the_xlsx_holds_typed_cells_and_text_that_never_runs(org, rows):
    response = org.client("viewer").get(org.url("transactions/export.xlsx?sort=amount"))

    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_MEDIA_TYPE
    assert response["Content-Disposition"].endswith(f'-transactions-{timezone.localdate().isoformat()}.xlsx"')
    body = b"".join(response)
    assert int(response["Content-Length"]) == len(body)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == list(exports.COLUMNS)
    assert [line[5] for line in values[1:]] == ["Market", "=HYPERLINK(\"http://evil.test\")", "Salary"]
    assert sheet["F3"].data_type == "s" and sheet["K3"].data_type == "s"  # strings, not formulas
    assert values[1][0] == dt.datetime(2024, 3, 2) and values[1][4] == -12.5
    assert Decimal(str(values[2][4])) == Decimal("-1.2345")
    assert values[1][8:10] == ["Food › Groceries", "=cmd, holiday"]


def test_the_export_links_carry_the_current_filter_without_the_cursor(org, rows):
    for i in range(60):
        factories.transaction(rows[0].account, amount="1", description=f"more {i}")
    client = org.client("viewer")
    first = client.get(org.url("transactions/?q=more&sort=amount"))
    page = client.get(first.context["more_url"]).content.decode()

    assert 'href="/t/acme/transactions/export.csv?q=more&amp;sort=amount"' in page
    assert 'href="/t/acme/transactions/export.xlsx?q=more&amp;sort=amount"' in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_empty_result_is_a_file_with_the_header_only(org, rows, fmt):
    response = org.client("viewer").get(org.url(f"transactions/export.{fmt}?q=nothing-matches"))
    assert response.status_code == 200
    if fmt == "csv":
        assert _csv(response) == [list(exports.COLUMNS)]
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response))).active
        assert sheet.max_row == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("query", "message"), [
    ("booked_from=2024-03-01&booked_to=2024-01-01", "From: After the “To” date."),
    ("amount_min=5&amount_max=1", "Min amount: Above the max amount."),
    ("booked_to=yesterday", "To: Enter a valid date."),
    ("category=not-a-category", "Category: Select a valid choice."),
    ("sort=random", "Sort: Select a valid choice."),
])
def test_bad_filters_refuse_the_export_with_a_clear_message(org, rows, fmt, query, message):
    response = org.client("viewer").get(org.url(f"transactions/export.{fmt}?{query}"))
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_another_tenants_account_or_category_is_refused_and_nothing_of_theirs_leaks(org, rows, fmt):
    stranger = factories.organization(org.people["outsider"])
    theirs = factories.account(stranger, name="Theirs")
    factories.transaction(theirs, amount="-9", description="Their secret")
    client = org.client("viewer")

    for query in (f"account={theirs.pk}", f"category={Category.objects.get(tenant=stranger, name='Food').pk}"):
        response = client.get(org.url(f"transactions/export.{fmt}?{query}"))
        assert response.status_code == 400
        assert b"Their secret" not in response.content

    everything = client.get(org.url(f"transactions/export.{fmt}"))
    body = b"".join(everything)
    assert b"Their secret" not in body and b"Theirs" not in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_member_may_export_strangers_get_404_and_anonymous_people_sign_in(org, rows, fmt):
    url = org.url(f"transactions/export.{fmt}")
    for who in ("owner", "admin", "member", "viewer"):
        assert org.client(who).get(url).status_code == 200, who
    assert org.client("outsider").get(url).status_code == 404
    from django.test import Client

    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def _export_queries(client, url) -> int:
    with count_queries() as queries:
        response = client.get(url)
        b"".join(response)
    return len(queries)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_reads_in_chunks_so_queries_grow_per_chunk_not_per_row(org, account, fmt):
    client = org.client("viewer")
    url = org.url(f"transactions/export.{fmt}")
    for i in range(150):
        factories.transaction(account, amount="1", description=f"row {i}")
    small = _export_queries(client, url)  # 2 chunks of 100
    for i in range(150, 350):
        factories.transaction(account, amount="1", description=f"row {i}")
    large = _export_queries(client, url)  # 4 chunks

    assert large - small == 2 * 2  # per chunk: the rows, and their tags
    assert large < 25


def test_the_chunks_walk_every_row_once_in_order(org, account):
    for i in range(250):
        factories.transaction(account, amount=str(i % 7), booked_on=dt.date(2024, 1, 1) + dt.timedelta(days=i % 11),
                              description=f"row {i}")
    pages = list(exports.chunks(tenant=org.tenant, filters={"sort": "-amount"}))

    assert [len(page) for page in pages] == [100, 100, 50]
    seen = [row for page in pages for row in page]
    assert len({row.pk for row in seen}) == 250
    assert [row.amount for row in seen] == sorted((row.amount for row in seen), reverse=True)


def test_the_xlsx_stops_at_a_sheets_last_row_and_says_so(org, account, monkeypatch, tmp_path):
    from coffer.ledger import selectors
    from coffer.web import forms_ledger

    rows = [factories.transaction(account, amount="1", description=f"row {i}") for i in range(5)]
    labels = forms_ledger.CategoryIndex(selectors.category_tree(tenant=org.tenant, include_archived=True))
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 4)  # header + 2 rows + the note
    written = exports.write_xlsx([rows[:3], rows[3:]], tmp_path / "out.xlsx", labels=labels)

    assert written == 2
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet.max_row == 4
    assert sheet["A4"].value == "More transactions match than a sheet holds; export them as CSV."
