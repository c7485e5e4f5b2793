"""Accounts pages: create, edit, archive, list with "load more", detail with its transactions."""

from __future__ import annotations

import re

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection

from coffer.audit.models import AuditEntry
from coffer.ledger.models import Account
from tests import factories

pytestmark = pytest.mark.django_db


def _account_form(**overrides):
    return {"name": "Checking", "type": "checking", "currency": "eur", "opening_balance": "250.50",
            "institution": "Bank", "account_number": "", **overrides}


def test_an_admin_creates_an_account_and_lands_on_its_page(org):
    response = org.client("admin").post(org.url("accounts/new/"), _account_form(), follow=True)

    account = Account.objects.get(tenant=org.tenant, name="Checking")
    assert account.currency == "EUR" and account.balance == account.opening_balance == 250.5
    assert response.redirect_chain[-1][0] == org.url(f"accounts/{account.pk}/")
    assert "250.50" in response.content.decode()
    assert AuditEntry.objects.filter(tenant=org.tenant, action="account.create", object_id=str(account.pk)).exists()


def test_a_taken_account_name_is_shown_next_to_the_name_field_and_nothing_is_created(org):
    factories.account(org.tenant, name="Checking")

    response = org.client("admin").post(org.url("accounts/new/"), _account_form())

    assert response.status_code == 422
    assert response.context["form"].errors == {"name": ["Already taken."]}
    assert re.search(rb'id="id_name_error"[^>]*><li>Already taken.', response.content)
    assert Account.objects.filter(tenant=org.tenant).count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("currency", "XXY", "Use an ISO 4217 code such as EUR or USD."),
    ("opening_balance", "12.345678", "Ensure that there are no more than 4 decimal places."),
    ("opening_balance", "lots", "Enter a number."),
    ("name", "", "This field is required."),
    ("type", "piggy-bank", "Select a valid choice. piggy-bank is not one of the available choices."),
])
def test_bad_account_input_shows_the_error_next_to_its_field(org, field, value, message):
    response = org.client("owner").post(org.url("accounts/new/"), _account_form(**{field: value}))

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"'.encode() in response.content
    assert not Account.objects.filter(tenant=org.tenant).exists()


def test_an_admin_renames_an_account_and_a_currency_change_with_transactions_is_refused(org):
    account = factories.account(org.tenant, name="Old")
    factories.transaction(account, amount="5")
    client = org.client("admin")

    renamed = client.post(org.url(f"accounts/{account.pk}/edit/"), _account_form(name="New", currency="EUR", opening_balance="0"))
    assert renamed.status_code == 302
    account.refresh_from_db()
    assert account.name == "New"

    refused = client.post(org.url(f"accounts/{account.pk}/edit/"), _account_form(name="New", currency="USD", opening_balance="0"))
    assert refused.status_code == 422
    assert refused.context["form"].errors == {"currency": ["The account has transactions."]}
    account.refresh_from_db()
    assert account.currency == "EUR"


def test_archiving_hides_the_account_from_the_list_until_asked_and_restoring_brings_it_back(org):
    account = factories.account(org.tenant, name="Old savings")
    client = org.client("owner")

    client.post(org.url(f"accounts/{account.pk}/archive/"), {"archived": "1"}, follow=True)
    assert b"Old savings" not in client.get(org.url("accounts/")).content
    assert b"Old savings" in client.get(org.url("accounts/?archived=1")).content
    assert b"Restore" in client.get(org.url(f"accounts/{account.pk}/")).content

    client.post(org.url(f"accounts/{account.pk}/archive/"), {"archived": "0"}, follow=True)
    assert b"Old savings" in client.get(org.url("accounts/")).content


def test_archive_only_answers_post(org):
    account = factories.account(org.tenant)
    assert org.client("owner").get(org.url(f"accounts/{account.pk}/archive/")).status_code == 405


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_account_list_runs_the_same_bounded_number_of_queries_for_5_or_120_accounts(org, django_assert_max_num_queries):
    client = org.client("viewer")
    for i in range(5):
        factories.account(org.tenant, name=f"A{i:03}")
    few = _queries(client, org.url("accounts/"))
    for i in range(5, 120):
        factories.account(org.tenant, name=f"A{i:03}")
    with django_assert_max_num_queries(8):
        many = client.get(org.url("accounts/"))
    assert _queries(client, org.url("accounts/")) == few
    assert len(many.context["accounts"]) == 50  # one page, never the whole list
    assert "Load more" in many.content.decode()


def test_load_more_continues_the_account_list_without_repeats(org):
    for i in range(60):
        factories.account(org.tenant, name=f"A{i:03}")
    client = org.client("member")
    first = client.get(org.url("accounts/"))
    more_url = first.context["more_url"]

    rest = client.get(more_url, HTTP_HX_REQUEST="true")

    assert "<html" not in rest.content.decode()  # a fragment of rows, not a page
    names = [a.name for a in first.context["accounts"]] + [a.name for a in rest.context["accounts"]]
    assert names == [f"A{i:03}" for i in range(60)]
    assert rest.context["more_url"] is None


def test_a_cursor_that_is_not_ours_is_a_bad_request(org):
    assert org.client("member").get(org.url("accounts/?cursor=bm90LWEtY3Vyc29y")).status_code == 400


def test_the_account_page_shows_its_balance_and_only_its_own_transactions(org, django_assert_max_num_queries):
    mine = factories.account(org.tenant, name="Mine", opening_balance="10")
    other = factories.account(org.tenant, name="Other")
    factories.transaction(mine, amount="-2.50", description="Coffee")
    factories.transaction(other, amount="9", description="Elsewhere")

    client = org.client("viewer")

    with django_assert_max_num_queries(12):  # + tags (1), category labels (1), the balance chart (2)
        page = client.get(org.url(f"accounts/{mine.pk}/")).content.decode()

    assert "7.50" in page and "Coffee" in page and "Elsewhere" not in page


def test_the_account_page_labels_each_transaction_with_its_category(org):
    from coffer.ledger.models import Category

    account = factories.account(org.tenant, name="Main")
    groceries = Category.objects.get(tenant=org.tenant, name="Groceries")
    factories.transaction(account, amount="-8.00", description="Market", category_id=groceries.pk)
    page = org.client("viewer").get(org.url(f"accounts/{account.pk}/")).content.decode()
    assert "Groceries" in page
