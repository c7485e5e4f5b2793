"""Dashboard aggregates: per month and currency, zero-filled, tenant-scoped, bounded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors
from coffer.insights import selectors as insights
from tests import factories

TODAY = dt.date(2024, 3, 20)


@pytest.fixture
def books(db):
    owner = factories.user()
    tenant = factories.organization(owner)
    eur = factories.account(tenant, name="EUR", currency="EUR", opening_balance="100.00")
    usd = factories.account(tenant, name="USD", currency="USD")
    for amount, day, account in (("1000.00", dt.date(2024, 1, 25), eur), ("-40.50", dt.date(2024, 1, 3), eur),
                                 ("-9.50", dt.date(2024, 1, 31), eur), ("-200.00", dt.date(2024, 3, 1), eur),
                                 ("70.00", dt.date(2024, 3, 2), usd), ("-5.00", dt.date(2023, 12, 31), eur)):
        factories.transaction(account, amount=amount, booked_on=day)
    stranger = factories.organization(factories.user())
    factories.transaction(factories.account(stranger, currency="EUR"), amount="-999.00", booked_on=dt.date(2024, 2, 2))
    return tenant, eur, usd


def test_month_starts_cross_the_year_and_end_with_this_month():
    assert insights.month_starts(months=3, today=dt.date(2024, 2, 29)) == [
        dt.date(2023, 12, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)]


def test_cashflow_sums_income_and_expenses_per_month_and_currency(books, django_assert_num_queries):
    tenant, _, _ = books
    with django_assert_num_queries(1):
        flows = insights.monthly_cashflow(tenant=tenant, months=3, today=TODAY)
    assert list(flows) == ["EUR", "USD"]
    assert [(f.month, f.income, f.expenses) for f in flows["EUR"]] == [
        (dt.date(2024, 1, 1), Decimal("1000.00"), Decimal("50.00")),
        (dt.date(2024, 2, 1), Decimal("0"), Decimal("0")),  # the other tenant's February is not ours
        (dt.date(2024, 3, 1), Decimal("0"), Decimal("200.00")),
    ]
    assert flows["EUR"][0].net == Decimal("950.00")
    assert [(f.income, f.expenses) for f in flows["USD"]] == [(0, 0), (0, 0), (Decimal("70.00"), 0)]


def test_a_tenant_without_transactions_has_no_cashflow(db):
    assert insights.monthly_cashflow(tenant=factories.organization(factories.user()), today=TODAY) == {}


@pytest.mark.parametrize("months", [0, -1, insights.MAX_MONTHS + 1])
def test_months_are_bounded(books, months):
    with pytest.raises(errors.ValidationError):
        insights.monthly_cashflow(tenant=books[0], months=months, today=TODAY)


def test_balance_history_starts_from_everything_before_and_ends_at_the_balance(books, django_assert_num_queries):
    _, eur, _ = books
    eur.refresh_from_db()
    with django_assert_num_queries(2):
        history = insights.balance_history(account=eur, months=3, today=TODAY)
    assert [(p.month, p.balance) for p in history] == [
        (dt.date(2024, 1, 1), Decimal("1045.00")),  # 100 opening - 5 in December + 950 in January
        (dt.date(2024, 2, 1), Decimal("1045.00")),
        (dt.date(2024, 3, 1), Decimal("845.00")),
    ]
    assert history[-1].balance == eur.balance


def test_sums_come_back_with_exactly_four_places_even_on_sqlite(books):
    _, eur, _ = books
    for _ in range(30):
        factories.transaction(eur, amount="-0.10", booked_on=dt.date(2024, 3, 5))
    history = insights.balance_history(account=eur, months=1, today=TODAY)
    flows = insights.monthly_cashflow(tenant=eur.tenant, months=1, today=TODAY)
    assert str(history[-1].balance) == "842.0000"
    assert str(flows["EUR"][0].expenses) == "203.0000"
