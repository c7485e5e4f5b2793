"""Expected fees page (everyone reads the fees and their flagged periods; admins and owners create, edit and
delete, as in the API): what each role sees and may do, refusals, other tenants' ids, bad input, queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from coffer.audit.models import AuditEntry
from coffer.ledger import fees as ledger_fees
from coffer.ledger.models import Category, ExpectedFee
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

MANAGERS = ["owner", "admin"]
NOT_MANAGERS = ["member", "viewer"]


def _cat(tenant, name: str) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def _fee(tenant, account, name="Account fee", amount="4.90", **kwargs) -> ExpectedFee:
    return ledger_fees.expected_fee_create(tenant=tenant, actor=None, account_id=account.pk, name=name,
                                           amount=amount, **kwargs)


def _row(page: str, fee: ExpectedFee) -> str:
    found = page[page.index(f'id="fee-{fee.pk}"'):]
    return found[:found.index("</tr>")]


def _statuses(row: str) -> list[str]:
    return [part.split('"', 1)[0] for part in row.split('data-status="')[1:]]


def _state(tenant) -> tuple:
    return (sorted(ExpectedFee.objects.filter(tenant=tenant).values_list("pk", "name", "amount", "frequency")),
            AuditEntry.objects.filter(tenant=tenant).count())


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="1000")


def test_each_fee_shows_its_periods_ok_missing_or_differing_newest_first(org, account):
    fee = _fee(org.tenant, account)
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    two_back = (last_month - dt.timedelta(days=1)).replace(day=1)
    factories.transaction(account, amount="-4.90", booked_on=this_month, description="ACCOUNT FEE")
    factories.transaction(account, amount="-5.90", booked_on=two_back,
                          category_id=_cat(org.tenant, "Account fees").pk)

    page = org.client("viewer").get(org.url("fees/")).content.decode()

    row = _row(page, fee)
    assert "Account fee" in row and "4.90" in row and "Monthly" in row
    assert _statuses(row)[:3] == ["ok", "missing", "differs"]
    assert len(_statuses(row)) == 12  # the last 12 months
    assert "5.90" in row  # what was charged where it differs
    assert 'data-testid="fee-report"' in page and "/reports/fees.csv" in page


def test_fees_are_grouped_by_account(org, account):
    savings = factories.account(org.tenant, name="Savings")
    _fee(org.tenant, account, "Account fee")
    _fee(org.tenant, savings, "Savings fee", frequency="yearly")
    page = org.client("member").get(org.url("fees/")).content.decode()
    assert page.count('data-testid="fee-account"') == 2
    assert page.index("Current") < page.index("Account fee") < page.index("Savings fee")


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_members_and_viewers_read_fees_without_buttons_to_change_them(org, account, who):
    fee = _fee(org.tenant, account)
    page = org.client(who).get(org.url("fees/")).content.decode()
    assert "Account fee" in page
    assert "New expected fee" not in page and f"fees/{fee.pk}/edit/" not in page and "/delete/" not in page


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_get_the_buttons(org, account, who):
    fee = _fee(org.tenant, account)
    page = org.client(who).get(org.url("fees/")).content.decode()
    assert "New expected fee" in page and f"fees/{fee.pk}/edit/" in page and f"fees/{fee.pk}/delete/" in page


def test_without_fees_the_page_explains_them(org):
    page = org.client("viewer").get(org.url("fees/")).content.decode()
    assert 'data-testid="no-fees"' in page


def test_the_nav_has_a_fees_tab(org):
    page = org.client("viewer").get(org.url("fees/")).content.decode()
    assert f'href="/t/{org.tenant.slug}/fees/" aria-current="page">Fees</a>' in page


def test_the_fee_report_link_downloads_the_fee_report(org, account):
    factories.transaction(account, amount="-3.00", booked_on=timezone.localdate(),
                          category_id=_cat(org.tenant, "Card fees").pk)
    response = org.client("viewer").get(org.url("reports/fees.csv"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Account,Currency,Month,Fees,Transactions" in body.replace("\ufeff", "") and "Current,EUR" in body


def test_the_list_runs_a_bounded_number_of_queries_whatever_the_number_of_fees(org, account):
    client = org.client("viewer")
    _fee(org.tenant, account, "Fee 0")
    client.get(org.url("fees/"))
    with count_queries() as few:
        assert client.get(org.url("fees/")).status_code == 200
    for i in range(1, 8):
        other = factories.account(org.tenant, name=f"Account {i}")
        _fee(org.tenant, other, f"Fee {i}", frequency="quarterly", category_id=_cat(org.tenant, "Card fees").pk)
        factories.transaction(other, amount="-2", booked_on=timezone.localdate(), description=f"Fee {i}")
    with count_queries() as many:
        assert client.get(org.url("fees/")).status_code == 200
    assert len(many) == len(few) and len(many) <= 15


def test_names_are_escaped(org, account):
    _fee(org.tenant, account, "<script>x()</script>")
    page = org.client("viewer").get(org.url("fees/")).content.decode()
    assert "<script>x()</script>" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page


# --- create, edit, delete ------------------------------------------------------------------------


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_create_edit_and_delete_a_fee(org, account, who):
    client = org.client(who)
    assert client.get(org.url("fees/new/")).status_code == 200
    response = client.post(org.url("fees/new/"), {
        "account": str(account.pk), "name": "Card fee", "amount": "30", "frequency": "yearly",
        "category_id": str(_cat(org.tenant, "Card fees").pk), "day_tolerance": "5",
    })
    assert response.status_code == 302 and response["Location"] == org.url("fees/")
    fee = ExpectedFee.objects.get(tenant=org.tenant)
    assert (fee.account_id, fee.name, fee.amount, fee.frequency, fee.day_tolerance) == (
        account.pk, "Card fee", Decimal("30"), "yearly", 5)
    assert fee.category.name == "Card fees"

    assert client.get(org.url(f"fees/{fee.pk}/edit/")).status_code == 200
    response = client.post(org.url(f"fees/{fee.pk}/edit/"), {
        "name": "Card fee (gold)", "amount": "45.50", "frequency": "quarterly", "category_id": "",
        "day_tolerance": "0",
    })
    assert response.status_code == 302
    fee.refresh_from_db()
    assert (fee.name, fee.amount, fee.frequency, fee.category_id) == ("Card fee (gold)", Decimal("45.50"),
                                                                      "quarterly", None)

    assert "Delete the expected fee" in client.get(org.url(f"fees/{fee.pk}/delete/")).content.decode()
    assert client.post(org.url(f"fees/{fee.pk}/delete/")).status_code == 302
    assert not ExpectedFee.objects.filter(tenant=org.tenant).exists()
    actions = list(AuditEntry.objects.filter(tenant=org.tenant, action__startswith="expected_fee.")
                   .order_by("created_at").values_list("action", flat=True))
    assert actions == ["expected_fee.create", "expected_fee.update", "expected_fee.delete"]


def test_the_account_of_a_fee_cannot_be_changed_by_editing(org, account):
    fee = _fee(org.tenant, account)
    other = factories.account(org.tenant, name="Other")
    response = org.client("admin").post(org.url(f"fees/{fee.pk}/edit/"), {
        "account": str(other.pk), "name": "Account fee", "amount": "4.90", "frequency": "monthly",
        "day_tolerance": "0",
    })
    assert response.status_code == 302
    assert ExpectedFee.objects.get(pk=fee.pk).account_id == account.pk


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"amount": "0"}, "amount", "Must be above 0"),
    ({"amount": "-4"}, "amount", "Must be above 0"),
    ({"amount": "1.23456"}, "amount", "decimal places"),
    ({"amount": "abc"}, "amount", "Enter a number"),
    ({"name": "  "}, "name", "This field is required"),
    ({"frequency": "weekly"}, "frequency", "Select a valid choice"),
    ({"day_tolerance": "40"}, "day_tolerance", "less than or equal to 31"),
    ({"account": ""}, "account", "This field is required"),
    ({"category_id": "00000000-0000-7000-8000-000000000000"}, "category_id", "Select a valid choice"),
])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(org, account, data, field, message):
    before = _state(org.tenant)
    response = org.client("admin").post(org.url("fees/new/"), {
        "account": str(account.pk), "name": "Account fee", "amount": "4.90", "frequency": "monthly",
        "day_tolerance": "0", **data,
    })
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert message in response.content.decode()
    assert _state(org.tenant) == before


def test_bad_edits_are_shown_and_change_nothing(org, account):
    fee = _fee(org.tenant, account)
    before = _state(org.tenant)
    response = org.client("owner").post(org.url(f"fees/{fee.pk}/edit/"), {
        "name": "Account fee", "amount": "0", "frequency": "monthly", "day_tolerance": "0",
    })
    assert response.status_code == 422 and "Must be above 0" in response.content.decode()
    assert _state(org.tenant) == before


def test_the_hundred_and_first_fee_is_refused_on_top_of_the_form(org, account):
    ExpectedFee.objects.bulk_create(ExpectedFee(tenant=org.tenant, account=account, name=f"Fee {i}", amount=1)
                                    for i in range(ledger_fees.MAX_EXPECTED_FEES_PER_TENANT))
    response = org.client("admin").post(org.url("fees/new/"), {
        "account": str(account.pk), "name": "One more", "amount": "1", "frequency": "monthly", "day_tolerance": "0",
    })
    assert response.status_code == 422 and "at most 100 expected fees" in response.content.decode()
    assert ExpectedFee.objects.filter(tenant=org.tenant).count() == ledger_fees.MAX_EXPECTED_FEES_PER_TENANT


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_every_change_is_refused_to_members_and_viewers_and_nothing_changes(org, account, who):
    fee = _fee(org.tenant, account)
    client, before = org.client(who), _state(org.tenant)
    data = {"account": str(account.pk), "name": "X", "amount": "1", "frequency": "monthly", "day_tolerance": "0"}
    assert client.get(org.url("fees/new/")).status_code == 403
    assert client.post(org.url("fees/new/"), data).status_code == 403
    assert client.get(org.url(f"fees/{fee.pk}/edit/")).status_code == 403
    assert client.post(org.url(f"fees/{fee.pk}/edit/"), data).status_code == 403
    assert client.get(org.url(f"fees/{fee.pk}/delete/")).status_code == 403
    assert client.post(org.url(f"fees/{fee.pk}/delete/")).status_code == 403
    assert _state(org.tenant) == before


def test_strangers_get_404_on_every_fees_page(org, account):
    fee = _fee(org.tenant, account)
    client = org.client("outsider")
    for url in ("fees/", "fees/new/", f"fees/{fee.pk}/edit/", f"fees/{fee.pk}/delete/"):
        assert client.get(org.url(url)).status_code == 404, url
    assert client.post(org.url(f"fees/{fee.pk}/delete/")).status_code == 404
    assert ExpectedFee.objects.filter(pk=fee.pk).exists()


def test_another_tenants_fees_and_accounts_are_never_listed_nor_reachable(org, account):
    other = factories.organization(org.people["outsider"], name="Other")
    their_account = factories.account(other, name="Their secret account")
    theirs = _fee(other, their_account, "Their secret fee")
    client = org.client("admin")
    page = client.get(org.url("fees/")).content.decode()
    assert "Their secret" not in page
    assert "Their secret account" not in client.get(org.url("fees/new/")).content.decode()
    for url in (f"fees/{theirs.pk}/edit/", f"fees/{theirs.pk}/delete/", "fees/not-a-uuid/edit/"):
        assert client.get(org.url(url)).status_code == 404, url
    assert client.post(org.url(f"fees/{theirs.pk}/delete/")).status_code == 404
    assert client.post(org.url(f"fees/{theirs.pk}/edit/"), {
        "name": "Mine now", "amount": "1", "frequency": "monthly", "day_tolerance": "0"}).status_code == 404
    response = client.post(org.url("fees/new/"), {
        "account": str(their_account.pk), "name": "X", "amount": "1", "frequency": "monthly", "day_tolerance": "0"})
    assert response.status_code == 422
    assert ExpectedFee.objects.get(pk=theirs.pk).name == "Their secret fee"
    assert not ExpectedFee.objects.filter(tenant=org.tenant).exists()
