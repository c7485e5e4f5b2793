"""Ledger selectors: keyset pages and filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors
from coffer.ledger import selectors as ledger_selectors
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return factories.organization(factories.user())


@pytest.fixture
def tied_rows(tenant):
    """23 rows on 3 dates and 3 amounts, so every page boundary falls inside a tie."""
    account = factories.account(tenant)
    return [
        factories.transaction(account, amount=["-5.00", "10.00", "10.00"][i % 3], booked_on=dt.date(2024, 3, 1 + i % 3))
        for i in range(23)
    ]


def walk(tenant, *, sort, limit, **filters):
    seen, after = [], None
    while True:
        rows, after = ledger_selectors.transaction_page(tenant=tenant, limit=limit, sort=sort, after=after, **filters)
        seen.extend(rows)
        if after is None:
            return seen


@pytest.mark.parametrize("sort", ["booked_on", "-booked_on", "amount", "-amount"])
@pytest.mark.parametrize("limit", [1, 4, 23, 100])
def test_keyset_pages_walk_every_row_once_in_order_through_ties(tenant, tied_rows, sort, limit):
    seen = walk(tenant, sort=sort, limit=limit)
    assert sorted(r.pk for r in seen) == sorted(r.pk for r in tied_rows)
    assert len({r.pk for r in seen}) == len(tied_rows)
    field = sort.lstrip("-")
    keys = [(getattr(r, field), r.pk) for r in seen]
    assert keys == sorted(keys, reverse=sort.startswith("-"))


def test_last_page_has_no_next_key(tenant, tied_rows):
    rows, after = ledger_selectors.transaction_page(tenant=tenant, limit=23)
    assert len(rows) == 23 and after is None
    rows, after = ledger_selectors.transaction_page(tenant=tenant, limit=22)
    assert len(rows) == 22 and after is not None


def test_pages_never_include_another_tenants_rows(tenant, tied_rows):
    other = factories.organization(factories.user())
    factories.transaction(factories.account(other), amount="1")
    assert len(walk(tenant, sort="amount", limit=7)) == 23


@pytest.mark.parametrize("after", [["amount", "x", "y"], ["-booked_on", "2024-01-01", "not-a-uuid"], ["booked_on"],
                                   ["booked_on", "nan", "01a205ee-f3ce-7cfd-84e1-83143740d5b0"],
                                   ["amount", "NaN", "01a205ee-f3ce-7cfd-84e1-83143740d5b0"]])
def test_a_key_that_does_not_fit_the_sort_is_refused(tenant, after):
    with pytest.raises(errors.ValidationError, match="cursor"):
        ledger_selectors.transaction_page(tenant=tenant, limit=5, sort="amount" if after[0] == "amount" else "booked_on",
                                          after=after)


@pytest.mark.parametrize("limit", [0, 101])
def test_page_size_is_bounded(tenant, limit):
    with pytest.raises(errors.ValidationError, match="limit"):
        ledger_selectors.transaction_page(tenant=tenant, limit=limit)


def test_filters_by_account_dates_amounts_and_text(tenant):
    main, cash = factories.account(tenant), factories.account(tenant)
    coffee = factories.transaction(main, amount="-3.50", booked_on=dt.date(2024, 1, 5), description="Coffee at Blue Bottle")
    rent = factories.transaction(main, amount="-900", booked_on=dt.date(2024, 2, 1), counterparty="Landlord Ltd")
    salary = factories.transaction(main, amount="2500", booked_on=dt.date(2024, 2, 25), reference="SAL-2024-02")
    atm = factories.transaction(cash, amount="100", booked_on=dt.date(2024, 3, 1), description="ATM")

    def ids(**filters):
        return {r.pk for r in walk(tenant, sort="-booked_on", limit=100, **filters)}

    assert ids(account_id=cash.pk) == {atm.pk}
    assert ids(booked_from=dt.date(2024, 2, 1), booked_to=dt.date(2024, 2, 25)) == {rent.pk, salary.pk}
    assert ids(amount_min=Decimal("-10"), amount_max=Decimal("100")) == {coffee.pk, atm.pk}
    assert ids(text="blue bottle") == {coffee.pk}
    assert ids(text="landlord") == {rent.pk}
    assert ids(text="sal-2024") == {salary.pk}
    assert ids(account_id=main.pk, amount_min=Decimal("0")) == {salary.pk}
    assert ids(text="nothing like this") == set()


def test_inverted_ranges_are_refused_with_a_message(tenant):
    with pytest.raises(errors.ValidationError, match="booked_from"):
        ledger_selectors.transaction_page(tenant=tenant, limit=5, booked_from=dt.date(2024, 2, 1), booked_to=dt.date(2024, 1, 1))
    with pytest.raises(errors.ValidationError, match="amount_min"):
        ledger_selectors.transaction_page(tenant=tenant, limit=5, amount_min=Decimal("5"), amount_max=Decimal("1"))


def test_account_pages_walk_by_name_and_hide_archived_unless_asked(tenant):
    accounts = [factories.account(tenant, name=f"Acc {i:02d}") for i in range(7)]
    accounts[3].archived_at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    accounts[3].save()

    def names(include_archived):
        seen, after = [], None
        while True:
            rows, after = ledger_selectors.account_page(tenant=tenant, limit=2, include_archived=include_archived, after=after)
            seen.extend(r.name for r in rows)
            if after is None:
                return seen

    assert names(False) == [a.name for a in accounts if a is not accounts[3]]
    assert names(True) == [a.name for a in accounts]
