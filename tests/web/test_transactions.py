"""Transactions pages: add, filter, sort, "load more", inline edit and delete over HTMX, escaping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffer.ledger.models import Transaction
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="100")


def _form(for_account, **overrides):
    return {"account": str(for_account.pk), "booked_on": "2024-03-01", "amount": "-12.50", "description": "Lunch",
            "counterparty": "", "reference": "", "note": "", **overrides}


def test_a_member_adds_a_transaction_and_the_dashboard_balance_follows(org, account):
    client = org.client("member")

    response = client.post(org.url("transactions/new/"), _form(account), follow=True)

    assert response.redirect_chain[-1][0] == org.url("transactions/")
    assert "Transaction of -12.50 EUR added." in response.content.decode()
    account.refresh_from_db()
    assert account.balance == Decimal("87.50")
    dashboard = client.get(org.url())
    assert dashboard.context["totals"] == [("EUR", Decimal("87.50"))]
    assert 'data-testid="total-EUR">87.50' in dashboard.content.decode()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("amount", "twelve", "Enter a number."),
    ("amount", "1.23456", "Ensure that there are no more than 4 decimal places."),
    ("booked_on", "2024-02-30", "Enter a valid date."),
    ("booked_on", "", "This field is required."),
    ("account", "00000000-0000-0000-0000-000000000000",
     "Select a valid choice. 00000000-0000-0000-0000-000000000000 is not one of the available choices."),
])
def test_bad_transaction_input_shows_the_error_next_to_its_field_and_adds_nothing(org, account, field, value, message):
    response = org.client("member").post(org.url("transactions/new/"), _form(account, **{field: value}))

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"'.encode() in response.content
    assert not Transaction.objects.exists()
    account.refresh_from_db()
    assert account.balance == 100


def test_an_archived_account_is_not_offered_for_new_transactions(org, account):
    archived = factories.account(org.tenant, name="Closed")
    org.client("owner").post(org.url(f"accounts/{archived.pk}/archive/"), {"archived": "1"})

    response = org.client("member").post(org.url("transactions/new/"), _form(archived))

    assert response.status_code == 422
    assert "account" in response.context["form"].errors
    assert not Transaction.objects.exists()


def test_a_transaction_described_as_a_script_renders_as_text(org, account):
    factories.transaction(account, amount="-1", description="<script>alert(1)</script>", counterparty="<b>x</b>")
    client = org.client("viewer")

    for url in (org.url(), org.url("transactions/"), org.url(f"accounts/{account.pk}/")):
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    assert "<b>x</b>" not in client.get(org.url("transactions/")).content.decode()


def test_an_account_named_like_markup_renders_as_text_in_the_switcher_pages(org):
    factories.account(org.tenant, name='"><img src=x onerror=alert(1)>')
    page = org.client("viewer").get(org.url("accounts/")).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.fixture
def spread(org, account):
    """Six rows over two accounts, dates and amounts apart so each filter picks a known set."""
    savings = factories.account(org.tenant, name="Savings")
    rows = {
        "rent": factories.transaction(account, amount="-900", booked_on=dt.date(2024, 1, 1), description="Rent January"),
        "salary": factories.transaction(account, amount="2500", booked_on=dt.date(2024, 1, 25), description="Salary"),
        "coffee": factories.transaction(account, amount="-3.20", booked_on=dt.date(2024, 2, 3), description="Coffee",
                                        counterparty="Bean Bar"),
        "rent2": factories.transaction(account, amount="-900", booked_on=dt.date(2024, 2, 1), description="Rent February"),
        "save": factories.transaction(savings, amount="300", booked_on=dt.date(2024, 2, 2), description="Set aside"),
        "interest": factories.transaction(savings, amount="1.05", booked_on=dt.date(2024, 3, 31), description="Interest"),
    }
    return savings, rows


def _descriptions(response) -> list[str]:
    return [row.description for row in response.context["rows"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["Interest", "Coffee", "Set aside", "Rent February", "Salary", "Rent January"]),
    ("booked_from=2024-02-01&booked_to=2024-02-28", ["Coffee", "Set aside", "Rent February"]),
    ("amount_min=-10&amount_max=10", ["Interest", "Coffee"]),
    ("q=rent", ["Rent February", "Rent January"]),
    ("q=bean", ["Coffee"]),
    ("sort=amount", ["Rent February", "Rent January", "Coffee", "Interest", "Set aside", "Salary"]),
    ("sort=booked_on&amount_min=0", ["Salary", "Set aside", "Interest"]),
])
def test_filters_and_sort_pick_the_right_rows(org, spread, query, expected):
    response = org.client("viewer").get(org.url(f"transactions/?{query}"))

    if query.startswith("sort=amount"):  # ties on -900 are broken by id, ascending
        assert _descriptions(response)[2:] == expected[2:]
        assert sorted(_descriptions(response)[:2]) == sorted(expected[:2])
    else:
        assert _descriptions(response) == expected


def test_the_account_filter_shows_one_accounts_rows(org, spread):
    savings, _ = spread
    response = org.client("viewer").get(org.url(f"transactions/?account={savings.pk}"))
    assert _descriptions(response) == ["Interest", "Set aside"]


def test_contradictory_or_malformed_filters_show_errors_next_to_their_fields(org, spread):
    client = org.client("viewer")

    backwards = client.get(org.url("transactions/?booked_from=2024-03-01&booked_to=2024-01-01"))
    assert backwards.context["form"].errors == {"booked_from": ["After booked_to."]}
    assert backwards.context["rows"] == []

    malformed = client.get(org.url("transactions/?amount_min=lots&booked_to=nope"))
    assert set(malformed.context["form"].errors) == {"amount_min", "booked_to"}
    assert b'id="id_amount_min_error"' in malformed.content


def test_another_tenants_account_is_not_a_filter_choice(org, spread):
    stranger = factories.account(factories.organization(org.people["outsider"]), name="Stranger")
    factories.transaction(stranger, description="Not yours")

    response = org.client("viewer").get(org.url(f"transactions/?account={stranger.pk}"))

    assert "account" in response.context["form"].errors
    assert b"Not yours" not in response.content


def test_load_more_pages_through_every_row_once_with_the_filters_kept(org, account):
    for i in range(130):
        factories.transaction(account, amount=str(i + 1), booked_on=dt.date(2024, 1, 1) + dt.timedelta(days=i % 7),
                              description=f"row {i}")
    factories.transaction(account, amount="-5", description="filtered out")
    client = org.client("viewer")

    first = client.get(org.url("transactions/?amount_min=1&sort=-amount"))
    seen = [row.pk for row in first.context["rows"]]
    assert len(seen) == 50
    more_url = first.context["more_url"]
    while more_url:
        assert "amount_min=1" in more_url and "sort=-amount" in more_url
        fragment = client.get(more_url, **HTMX)
        assert "<html" not in fragment.content.decode()
        seen += [row.pk for row in fragment.context["rows"]]
        more_url = fragment.context["more_url"]

    assert len(seen) == len(set(seen)) == 130
    amounts = list(Transaction.objects.filter(pk__in=seen).values_list("pk", "amount"))
    by_pk = dict(amounts)
    assert [by_pk[pk] for pk in seen] == sorted(by_pk.values(), reverse=True)


def test_load_more_without_htmx_is_a_whole_page(org, account):
    for i in range(55):
        factories.transaction(account, amount="1", description=f"row {i}")
    client = org.client("viewer")
    more_url = client.get(org.url("transactions/")).context["more_url"]

    page = client.get(more_url)

    assert "<html" in page.content.decode() and len(page.context["rows"]) == 5


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["transactions/", "transactions/?q=row&sort=amount", ""])
def test_list_pages_run_the_same_bounded_number_of_queries_for_5_or_150_rows(org, account, page,
                                                                            django_assert_max_num_queries):
    other = factories.account(org.tenant, name="Other")
    client = org.client("member")
    for i in range(5):
        factories.transaction(account if i % 2 else other, amount="1", description=f"row {i}")
    few = _count(client, org.url(page))
    for i in range(5, 150):
        factories.transaction(account if i % 2 else other, amount="1", description=f"row {i}")
    for i in range(3):
        factories.account(org.tenant, name=f"More {i}")

    with django_assert_max_num_queries(9):
        response = client.get(org.url(page))
    assert _count(client, org.url(page)) == few
    assert len(response.context.get("rows") or response.context.get("recent")) <= 50


def test_the_load_more_fragment_runs_a_bounded_number_of_queries(org, account, django_assert_max_num_queries):
    for i in range(120):
        factories.transaction(account, amount="1", description=f"row {i}")
    client = org.client("member")
    more_url = client.get(org.url("transactions/")).context["more_url"]

    with django_assert_max_num_queries(8):
        fragment = client.get(more_url, **HTMX)
    assert len(fragment.context["rows"]) == 50


def test_inline_edit_swaps_a_form_row_in_and_saving_swaps_the_updated_row_back(org, account):
    row = factories.transaction(account, amount="-10", description="Bus", note="keep me")
    client = org.client("member")

    form_row = client.get(org.url(f"transactions/{row.pk}/edit/"), **HTMX).content.decode()
    assert f'<tr id="txn-{row.pk}" class="editing">' in form_row
    assert "<html" not in form_row and 'hx-post="' in form_row and "keep me" in form_row

    saved = client.post(org.url(f"transactions/{row.pk}/edit/"),
                        _form(account, amount="-12.00", description="Bus and tram", note="keep me"), **HTMX)
    assert saved.status_code == 200
    html = saved.content.decode()
    assert "<html" not in html and "Bus and tram" in html and "-12.00" in html and 'class="editing"' not in html
    row.refresh_from_db()
    account.refresh_from_db()
    assert (row.amount, row.description, row.note) == (Decimal("-12"), "Bus and tram", "keep me")
    assert account.balance == Decimal("88")


def test_inline_edit_with_bad_input_returns_the_form_row_with_the_error_and_changes_nothing(org, account):
    row = factories.transaction(account, amount="-10", description="Bus")
    client = org.client("member")

    response = client.post(org.url(f"transactions/{row.pk}/edit/"), _form(account, amount="ten"), **HTMX)

    assert response.status_code == 422
    assert "<html" not in response.content.decode()
    assert b'id="id_amount_error"' in response.content and b"Enter a number." in response.content
    row.refresh_from_db()
    assert row.amount == -10 and row.description == "Bus"


def test_cancel_of_an_inline_edit_gets_the_plain_row_back(org, account):
    row = factories.transaction(account, amount="-10", description="Bus")
    html = org.client("viewer").get(org.url(f"transactions/{row.pk}/row/"), **HTMX).content.decode()
    assert f'id="txn-{row.pk}"' in html and "Bus" in html and "<form" not in html  # a viewer gets no buttons


def test_delete_over_htmx_removes_the_row_and_moves_the_balance_back(org, account):
    row = factories.transaction(account, amount="-10", description="Bus")
    client = org.client("member")

    response = client.post(org.url(f"transactions/{row.pk}/delete/"), **HTMX)

    assert response.status_code == 200 and response.content == b""
    assert not Transaction.objects.filter(pk=row.pk).exists()
    account.refresh_from_db()
    assert account.balance == 100


def test_delete_only_answers_post(org, account):
    row = factories.transaction(account, amount="-10")
    assert org.client("member").get(org.url(f"transactions/{row.pk}/delete/")).status_code == 405
    assert Transaction.objects.filter(pk=row.pk).exists()
