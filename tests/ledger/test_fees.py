"""ledger.fees services: expected fees are validated, audited once per change, and scoped to the tenant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.ledger import fees
from coffer.ledger.models import Category, ExpectedFee
from tests import factories


@pytest.fixture
def setup(db):
    owner = factories.user()
    tenant = factories.organization(owner)
    return owner, tenant, factories.account(tenant, name="Checking")


def test_a_no_op_update_writes_no_audit_entry_and_a_change_writes_one(setup):
    owner, tenant, account = setup
    fee = fees.expected_fee_create(tenant=tenant, actor=owner, account_id=account.pk, name="Account fee", amount="3")
    before = AuditEntry.objects.filter(tenant=tenant).count()
    fees.expected_fee_update(tenant=tenant, actor=owner, fee_id=fee.pk, changes={"amount": "3.00"})
    assert AuditEntry.objects.filter(tenant=tenant).count() == before
    fees.expected_fee_update(tenant=tenant, actor=owner, fee_id=fee.pk, changes={"amount": "3.50"})
    entry = AuditEntry.objects.filter(tenant=tenant, action="expected_fee.update").get()
    assert set(entry.changes) == {"amount"}
    assert Decimal(entry.changes["amount"][0]) == 3 and Decimal(entry.changes["amount"][1]) == Decimal("3.5")
    assert ExpectedFee.objects.get(pk=fee.pk).amount == Decimal("3.5")


@pytest.mark.parametrize("changes, field", [
    ({"day_tolerance": -1}, "day_tolerance"), ({"day_tolerance": True}, "day_tolerance"),
    ({"category_id": "not-a-uuid"}, "category_id"), ({"account_id": None}, "account_id"),
])
def test_bad_changes_are_refused_on_the_field_and_nothing_changes(setup, changes, field):
    owner, tenant, account = setup
    fee = fees.expected_fee_create(tenant=tenant, actor=owner, account_id=account.pk, name="Account fee", amount="3")
    with pytest.raises(errors.ValidationError) as caught:
        fees.expected_fee_update(tenant=tenant, actor=owner, fee_id=fee.pk, changes=changes)
    assert field in caught.value.field_errors
    assert ExpectedFee.objects.get(pk=fee.pk).day_tolerance == 0


def test_an_income_category_is_not_a_fee_category(setup):
    owner, tenant, account = setup
    salary = Category.objects.get(tenant=tenant, name="Salary")
    with pytest.raises(errors.ValidationError):
        fees.expected_fee_create(tenant=tenant, actor=owner, account_id=account.pk, name="x", amount="1",
                                 category_id=salary.pk)
    assert not ExpectedFee.objects.filter(tenant=tenant).exists()


def test_the_check_refuses_a_reversed_or_too_long_period(setup):
    _, tenant, _ = setup
    with pytest.raises(errors.ValidationError):
        fees.fee_check(tenant=tenant, date_from=dt.date(2024, 2, 1), date_to=dt.date(2024, 1, 1))
    with pytest.raises(errors.ValidationError):
        fees.fee_check(tenant=tenant, date_from=dt.date(2010, 1, 1), date_to=dt.date(2024, 1, 1))


def test_a_fee_with_its_own_category_ignores_other_fee_categories(setup):
    owner, tenant, account = setup
    card = Category.objects.get(tenant=tenant, name="Card fees")
    fee = fees.expected_fee_create(tenant=tenant, actor=owner, account_id=account.pk, name="Annual", amount="20",
                                   frequency="yearly", category_id=card.pk)
    factories.transaction(account, amount="-5", booked_on=dt.date(2024, 6, 1),
                          category_id=Category.objects.get(tenant=tenant, name="Account fees").pk)
    factories.transaction(account, amount="-20", booked_on=dt.date(2024, 12, 31), category_id=card.pk)
    [result] = fees.fee_check(tenant=tenant, date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31),
                              fee_id=fee.pk)
    assert (result.status, result.charged, result.period_start) == ("ok", Decimal("20"), dt.date(2024, 1, 1))
