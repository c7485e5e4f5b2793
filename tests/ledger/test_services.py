"""Ledger services: balances, business rules, audit entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Account, Transaction
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return factories.user()


@pytest.fixture
def tenant(owner):
    return factories.organization(owner)


def balance_of(account: Account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance


def assert_balance(account: Account, expected: str) -> None:
    assert balance_of(account) == Decimal(expected)
    assert ledger_selectors.account_balance_recomputed(account) == Decimal(expected)


def test_creating_an_account_starts_its_balance_at_the_opening_balance(tenant, owner):
    account = ledger_services.account_create(
        tenant=tenant, actor=owner, name=" Main ", currency="eur", opening_balance="100.25"
    )
    assert (account.name, account.currency, account.balance) == ("Main", "EUR", Decimal("100.25"))
    entry = AuditEntry.objects.get(object_id=str(account.pk))
    assert entry.action == "account.create"
    assert entry.changes["opening_balance"] == [None, "100.2500"]


def test_account_names_are_unique_per_tenant_only(tenant, owner):
    ledger_services.account_create(tenant=tenant, actor=owner, name="Main", currency="EUR")
    with pytest.raises(errors.Conflict):
        ledger_services.account_create(tenant=tenant, actor=owner, name="Main", currency="USD")
    other = factories.organization(owner)
    ledger_services.account_create(tenant=other, actor=owner, name="Main", currency="EUR")
    assert Account.objects.filter(name="Main").count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"currency": "EUROS"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"opening_balance": "1.00001"}, "opening_balance"),
        ({"type": "piggy_bank"}, "type"),
        ({"name": "   "}, "name"),
    ],
)
def test_account_create_refuses_bad_values_and_creates_nothing(tenant, owner, kwargs, field):
    values = {"name": "Main", "currency": "EUR", **kwargs}
    with pytest.raises(errors.ValidationError) as caught:
        ledger_services.account_create(tenant=tenant, actor=owner, **values)
    assert field in caught.value.field_errors
    assert not Account.objects.filter(tenant=tenant).exists()


def test_balance_follows_create_update_and_delete_of_transactions(tenant, owner):
    account = factories.account(tenant, opening_balance="100")
    first = factories.transaction(account, amount="-30.50", actor=owner)
    second = factories.transaction(account, amount="10.0001", actor=owner)
    assert_balance(account, "79.5001")

    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=first.pk, changes={"amount": "-40"})
    assert_balance(account, "70.0001")

    ledger_services.transaction_delete(tenant=tenant, actor=owner, transaction_id=second.pk)
    assert_balance(account, "60.0000")


def test_moving_a_transaction_moves_its_amount_between_balances(tenant, owner):
    source = factories.account(tenant, opening_balance="10")
    target = factories.account(tenant, opening_balance="5")
    row = factories.transaction(source, amount="-3", actor=owner)

    ledger_services.transaction_update(
        tenant=tenant, actor=owner, transaction_id=row.pk, changes={"account_id": target.pk, "amount": "-4"}
    )
    assert_balance(source, "10")
    assert_balance(target, "1")
    assert Transaction.objects.get(pk=row.pk).account_id == target.pk


def test_editing_only_text_leaves_the_balance_alone_and_audits_the_change(tenant, owner):
    account = factories.account(tenant, opening_balance="10")
    row = factories.transaction(account, amount="-3", actor=owner, description="old")
    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"description": "new"})
    assert_balance(account, "7")
    entry = AuditEntry.objects.get(action="transaction.update", object_id=str(row.pk))
    assert entry.changes == {"description": ["old", "new"]}


def test_an_update_that_changes_nothing_writes_no_audit_entry(tenant, owner):
    account = factories.account(tenant)
    row = factories.transaction(account, amount="-3", actor=owner)
    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"amount": "-3.00"})
    assert not AuditEntry.objects.filter(action="transaction.update").exists()


def test_every_transaction_change_is_audited_with_before_and_after(tenant, owner):
    account = factories.account(tenant)
    row = factories.transaction(account, amount="-3", actor=owner, booked_on=dt.date(2024, 2, 1))
    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"amount": "-4"})
    ledger_services.transaction_delete(tenant=tenant, actor=owner, transaction_id=row.pk)
    entries = {e.action: e for e in AuditEntry.objects.filter(object_id=str(row.pk))}
    assert entries["transaction.create"].changes["amount"] == [None, "-3.0000"]
    assert entries["transaction.create"].changes["booked_on"] == [None, "2024-02-01"]
    assert entries["transaction.update"].changes == {"amount": ["-3.0000", "-4.0000"]}
    assert entries["transaction.delete"].changes["amount"] == ["-4.0000", None]
    assert all(e.actor_id == owner.pk and e.tenant_id == tenant.pk for e in entries.values())


def test_changing_the_opening_balance_moves_the_balance_by_the_difference(tenant, owner):
    account = factories.account(tenant, opening_balance="100")
    factories.transaction(account, amount="-20", actor=owner)
    ledger_services.account_update(tenant=tenant, actor=owner, account_id=account.pk, changes={"opening_balance": "50"})
    assert_balance(account, "30")
    entry = AuditEntry.objects.get(action="account.update", object_id=str(account.pk))
    assert entry.changes == {"opening_balance": ["100.0000", "50.0000"]}


def test_currency_can_change_only_while_the_account_has_no_transactions(tenant, owner):
    account = factories.account(tenant, currency="EUR")
    ledger_services.account_update(tenant=tenant, actor=owner, account_id=account.pk, changes={"currency": "usd"})
    assert Account.objects.get(pk=account.pk).currency == "USD"
    factories.transaction(account, amount="1", actor=owner)
    with pytest.raises(errors.Conflict):
        ledger_services.account_update(tenant=tenant, actor=owner, account_id=account.pk, changes={"currency": "EUR"})
    assert Account.objects.get(pk=account.pk).currency == "USD"


def test_an_archived_account_refuses_new_transactions(tenant, owner):
    account = factories.account(tenant)
    ledger_services.account_update(tenant=tenant, actor=owner, account_id=account.pk, changes={"archived": True})
    with pytest.raises(errors.Conflict, match="archived"):
        factories.transaction(account, amount="1", actor=owner)
    assert not Transaction.objects.exists()
    assert_balance(account, "0")


def test_a_transaction_cannot_move_into_an_archived_account(tenant, owner):
    source, target = factories.account(tenant), factories.account(tenant)
    row = factories.transaction(source, amount="5", actor=owner)
    ledger_services.account_update(tenant=tenant, actor=owner, account_id=target.pk, changes={"archived": True})
    with pytest.raises(errors.Conflict):
        ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"account_id": target.pk})
    assert_balance(source, "5")
    assert_balance(target, "0")


def test_a_transaction_cannot_move_to_an_account_of_another_currency(tenant, owner):
    source, target = factories.account(tenant, currency="EUR"), factories.account(tenant, currency="USD")
    row = factories.transaction(source, amount="5", actor=owner)
    with pytest.raises(errors.Conflict, match="USD"):
        ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"account_id": target.pk})
    assert Transaction.objects.get(pk=row.pk).account_id == source.pk


def test_an_account_with_transactions_cannot_be_deleted_but_an_empty_one_can(tenant, owner):
    used, empty = factories.account(tenant), factories.account(tenant)
    factories.transaction(used, amount="1", actor=owner)
    with pytest.raises(errors.Conflict, match="archive"):
        ledger_services.account_delete(tenant=tenant, actor=owner, account_id=used.pk)
    ledger_services.account_delete(tenant=tenant, actor=owner, account_id=empty.pk)
    assert set(Account.objects.values_list("pk", flat=True)) == {used.pk}
    assert AuditEntry.objects.filter(action="account.delete", object_id=str(empty.pk)).exists()


def test_services_do_not_reach_another_tenants_rows(tenant, owner):
    mine = factories.account(tenant)
    other_tenant = factories.organization(factories.user())
    theirs = factories.account(other_tenant, opening_balance="9")
    their_row = factories.transaction(theirs, amount="1")

    with pytest.raises(errors.ValidationError, match="No such account"):
        ledger_services.transaction_create(
            tenant=tenant, actor=owner, account_id=theirs.pk, booked_on=dt.date(2024, 1, 1), amount="5"
        )
    with pytest.raises(errors.NotFound):
        ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=their_row.pk, changes={"amount": "7"})
    with pytest.raises(errors.NotFound):
        ledger_services.transaction_delete(tenant=tenant, actor=owner, transaction_id=their_row.pk)
    with pytest.raises(errors.NotFound):
        ledger_services.account_update(tenant=tenant, actor=owner, account_id=theirs.pk, changes={"name": "x"})
    with pytest.raises(errors.NotFound):
        ledger_services.account_delete(tenant=tenant, actor=owner, account_id=theirs.pk)

    mine_row = factories.transaction(mine, amount="2", actor=owner)
    with pytest.raises(errors.ValidationError, match="No such account"):
        ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=mine_row.pk, changes={"account_id": theirs.pk})

    assert Transaction.objects.filter(account=theirs).get().amount == Decimal("1")
    assert_balance(theirs, "10")
    assert_balance(mine, "2")
    assert Account.objects.get(pk=theirs.pk).name == theirs.name


def test_recomputed_balance_exposes_a_drifted_denormalized_balance(tenant, owner):
    account = factories.account(tenant, opening_balance="10")
    factories.transaction(account, amount="5", actor=owner)
    Account.objects.filter(pk=account.pk).update(balance=Decimal("0"))
    assert ledger_selectors.account_balance_recomputed(account) == Decimal("15")
