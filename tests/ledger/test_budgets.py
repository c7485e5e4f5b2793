"""Budgets: periods, progress (refunds, transfers, subcategories, currencies), rollover, alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.ledger import budgets, exchange_rates, transfers
from coffer.ledger.models import Budget, Category
from tests import factories
from tests.querycount import count_queries


@pytest.fixture
def books(db):
    owner = factories.user()
    tenant = factories.organization(owner)
    return {
        "owner": owner, "tenant": tenant,
        "eur": factories.account(tenant, name="Checking", currency="EUR"),
        "savings": factories.account(tenant, name="Savings", currency="EUR"),
        "usd": factories.account(tenant, name="Dollars", currency="USD"),
    }


def category(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def spend(books, name, amount, day, account="eur"):
    return factories.transaction(books[account], amount=amount, booked_on=day,
                                 category_id=category(books["tenant"], name).pk if name else None)


def make(books, name, amount, *, today=dt.date(2024, 2, 15), **fields) -> Budget:
    return budgets.budget_create(tenant=books["tenant"], actor=books["owner"], today=today,
                                 category_id=category(books["tenant"], name).pk, amount=amount, **fields)


def progress_of(books, budget, on):
    fresh = budgets.budget_get(tenant=books["tenant"], budget_id=budget.pk)
    return budgets.budget_progress(tenant=books["tenant"], budgets=[fresh], on=on)[0]


@pytest.mark.parametrize("period, day, bounds", [
    ("monthly", dt.date(2024, 2, 1), (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
    ("monthly", dt.date(2023, 12, 31), (dt.date(2023, 12, 1), dt.date(2023, 12, 31))),
    ("quarterly", dt.date(2024, 5, 17), (dt.date(2024, 4, 1), dt.date(2024, 6, 30))),
    ("quarterly", dt.date(2024, 12, 31), (dt.date(2024, 10, 1), dt.date(2024, 12, 31))),
    ("yearly", dt.date(2024, 7, 4), (dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
])
def test_periods_are_calendar_months_quarters_and_years(period, day, bounds):
    assert budgets.period_bounds(period, day) == bounds


def test_periods_between_counts_whole_periods():
    assert budgets.periods_between("monthly", dt.date(2023, 11, 1), dt.date(2024, 2, 1)) == 3
    assert budgets.periods_between("quarterly", dt.date(2023, 10, 1), dt.date(2024, 4, 1)) == 2
    assert budgets.periods_between("yearly", dt.date(2024, 1, 1), dt.date(2024, 1, 1)) == 0


def test_progress_counts_the_category_tree_refunds_and_the_first_and_last_day_only(books):
    budget = make(books, "Food", "200.00")  # top-level: Groceries and Restaurants count too
    spend(books, "Groceries", "-999.00", dt.date(2024, 1, 31))  # the day before
    spend(books, "Groceries", "-50.00", dt.date(2024, 2, 1))  # first day
    spend(books, "Restaurants", "-35.50", dt.date(2024, 2, 10))
    spend(books, "Groceries", "20.00", dt.date(2024, 2, 11))  # a refund lowers spending
    spend(books, "Food", "-4.50", dt.date(2024, 2, 29))  # last day, on the group itself
    spend(books, "Shopping", "-77.00", dt.date(2024, 2, 12))  # another category
    spend(books, None, "-13.00", dt.date(2024, 2, 12))  # uncategorized
    spend(books, "Groceries", "-888.00", dt.date(2024, 3, 1))  # the day after
    p = progress_of(books, budget, dt.date(2024, 2, 15))
    spent = Decimal("50.00") + Decimal("35.50") - Decimal("20.00") + Decimal("4.50")
    assert (p.period_start, p.period_end) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert (p.spent, p.available, p.left) == (spent, Decimal("200.00"), Decimal("200.00") - spent)
    assert p.percent == Decimal("35.0")
    assert p.projected == (spent * 29 / 15).quantize(Decimal("0.0001"))
    assert p.status == "ok"


def test_a_budget_on_a_subcategory_counts_only_it(books):
    budget = make(books, "Groceries", "100.00")
    spend(books, "Groceries", "-30.00", dt.date(2024, 2, 3))
    spend(books, "Restaurants", "-40.00", dt.date(2024, 2, 3))
    assert progress_of(books, budget, dt.date(2024, 2, 3)).spent == Decimal("30.00")


def test_transfers_do_not_count_as_spending(books):
    budget = make(books, "Food", "100.00")
    out = spend(books, "Groceries", "-60.00", dt.date(2024, 2, 5))
    into = spend(books, None, "60.00", dt.date(2024, 2, 5), account="savings")
    spend(books, "Groceries", "-10.00", dt.date(2024, 2, 6))
    assert progress_of(books, budget, dt.date(2024, 2, 6)).spent == Decimal("70.00")
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=into.pk)
    assert progress_of(books, budget, dt.date(2024, 2, 6)).spent == Decimal("10.00")


@pytest.mark.parametrize("spent, status", [("79.99", "ok"), ("80.00", "warning"), ("100.00", "warning"),
                                           ("100.01", "over")])
def test_warning_from_eighty_percent_and_over_above_the_amount(books, spent, status):
    budget = make(books, "Food", "100.00")
    spend(books, "Groceries", f"-{spent}", dt.date(2024, 2, 2))
    assert progress_of(books, budget, dt.date(2024, 2, 2)).status == status


def test_rollover_carries_what_was_left_and_what_was_overspent(books):
    budget = make(books, "Food", "100.00", rollover=True, starts_on=dt.date(2024, 1, 20))
    assert budget.starts_on == dt.date(2024, 1, 1)
    spend(books, "Groceries", "-999.00", dt.date(2023, 12, 31))  # before the budget started
    spend(books, "Groceries", "-60.00", dt.date(2024, 1, 15))  # January leaves 40
    spend(books, "Groceries", "-130.00", dt.date(2024, 2, 15))  # February: 130 of the 140 available
    feb = progress_of(books, budget, dt.date(2024, 2, 20))
    assert (feb.carried_over, feb.available, feb.spent, feb.left) == (
        Decimal("40.00"), Decimal("140.00"), Decimal("130.00"), Decimal("10.00"))
    spend(books, "Groceries", "-50.00", dt.date(2024, 2, 25))  # February: 180 of 140, 40 over
    march = progress_of(books, budget, dt.date(2024, 3, 1))
    assert (march.carried_over, march.available) == (Decimal("-40.00"), Decimal("60.00"))
    without = make(books, "Shopping", "100.00", starts_on=dt.date(2024, 1, 1))
    spend(books, "Clothing", "-10.00", dt.date(2024, 1, 3))
    assert progress_of(books, without, dt.date(2024, 3, 1)).carried_over == 0


def test_a_carried_deficit_larger_than_the_budget_leaves_nothing_available(books):
    budget = make(books, "Food", "50.00", rollover=True, starts_on=dt.date(2024, 1, 1))
    spend(books, "Groceries", "-200.00", dt.date(2024, 1, 10))
    p = progress_of(books, budget, dt.date(2024, 2, 1))
    assert (p.available, p.percent, p.status) == (Decimal("-100.00"), None, "over")


def test_quarterly_and_yearly_budgets_count_their_whole_period(books):
    quarter = make(books, "Food", "300.00", period="quarterly")
    year = make(books, "Shopping", "1000.00", period="yearly")
    spend(books, "Groceries", "-10.00", dt.date(2024, 1, 1))
    spend(books, "Groceries", "-20.00", dt.date(2024, 3, 31))
    spend(books, "Groceries", "-40.00", dt.date(2024, 4, 1))
    spend(books, "Clothing", "-5.00", dt.date(2024, 12, 31))
    spend(books, "Clothing", "-7.00", dt.date(2025, 1, 1))
    q = progress_of(books, quarter, dt.date(2024, 2, 1))
    y = progress_of(books, year, dt.date(2024, 2, 1))
    assert (q.period_start, q.period_end, q.spent) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31), Decimal("30.00"))
    assert (y.period_end, y.spent) == (dt.date(2024, 12, 31), Decimal("5.00"))


def test_spending_in_another_currency_is_converted_or_reported_unconverted(books):
    budget = make(books, "Food", "100.00")  # EUR, the tenant's base currency
    spend(books, "Groceries", "-10.00", dt.date(2024, 2, 3))
    spend(books, "Groceries", "-20.00", dt.date(2024, 2, 4), account="usd")
    p = progress_of(books, budget, dt.date(2024, 2, 5))
    assert (p.spent, p.unconverted, p.rates) == (Decimal("10.00"), {"USD": Decimal("20.00")}, ())
    exchange_rates.rate_create(tenant=books["tenant"], actor=None, date=dt.date(2024, 2, 28), from_currency="USD",
                               to_currency="EUR", rate="0.9")
    p = progress_of(books, budget, dt.date(2024, 2, 5))
    assert (p.spent, p.unconverted) == (Decimal("28.00"), {})
    assert [(r.currency, r.rate_date) for r in p.rates] == [("USD", dt.date(2024, 2, 28))]


def test_alerts_list_over_budgets_first_and_leave_the_rest_out(books, django_assert_max_num_queries):
    food = make(books, "Food", "100.00")
    shopping = make(books, "Shopping", "100.00")
    make(books, "Health", "100.00")
    leisure = make(books, "Leisure", "100.00")
    spend(books, "Groceries", "-85.00", dt.date(2024, 2, 2))
    spend(books, "Clothing", "-120.00", dt.date(2024, 2, 2))
    spend(books, "Doctor", "-10.00", dt.date(2024, 2, 2))
    spend(books, "Travel", "-95.00", dt.date(2024, 2, 2))
    with django_assert_max_num_queries(2):
        alerts = budgets.budget_alerts(books["tenant"], dt.date(2024, 2, 20))
    assert [(a.budget.pk, a.level) for a in alerts] == [(shopping.pk, "over"), (leisure.pk, "warning"), (food.pk, "warning")]
    assert alerts[0].message == "Shopping: 20.00 EUR over budget"
    assert budgets.budget_alerts(books["tenant"], dt.date(2024, 3, 1)) == []  # a new month


def test_progress_runs_a_fixed_number_of_queries_whatever_the_budgets_and_transactions(books):
    def run(names):
        for name in names:
            if not Budget.objects.filter(tenant=books["tenant"], category__name=name).exists():
                make(books, name, "100.00", rollover=True, starts_on=dt.date(2023, 1, 1))
            spend(books, name, "-1.00", dt.date(2024, 2, 2))
            spend(books, name, "-1.00", dt.date(2024, 2, 2), account="usd")
        exchange_rates.rate_create(tenant=books["tenant"], actor=None, date=dt.date(2024, 1, len(names)),
                                   from_currency="USD", to_currency="EUR", rate="0.9")
        with count_queries() as queries:
            budgets.budget_alerts(books["tenant"], dt.date(2024, 2, 20))
        return len(queries)

    assert run(["Food"]) == run(["Food", "Shopping", "Health", "Leisure", "Transport", "Education"]) == 3


def test_creating_changing_and_deleting_a_budget_is_audited(books):
    budget = make(books, "Food", "100.00", period="quarterly", starts_on=dt.date(2024, 2, 20))
    assert (budget.currency, budget.starts_on) == ("EUR", dt.date(2024, 1, 1))
    budgets.budget_update(tenant=books["tenant"], actor=books["owner"], budget_id=budget.pk,
                          changes={"amount": "150.00", "rollover": True})
    budgets.budget_update(tenant=books["tenant"], actor=books["owner"], budget_id=budget.pk, changes={"amount": "150"})
    budgets.budget_delete(tenant=books["tenant"], actor=books["owner"], budget_id=budget.pk)
    actions = list(AuditEntry.objects.filter(tenant=books["tenant"], action__startswith="budget.")
                   .order_by("created_at").values_list("action", flat=True))
    assert actions == ["budget.create", "budget.update", "budget.delete"]  # the no-op wrote nothing


@pytest.mark.parametrize("name, amount, fields, error", [
    ("Salary", "100.00", {}, errors.ValidationError),  # an income category
    ("Transfers", "100.00", {}, errors.ValidationError),
    ("Food", "0", {}, errors.ValidationError),
    ("Food", "-5", {}, errors.ValidationError),
    ("Food", "10", {"period": "weekly"}, errors.ValidationError),
    ("Food", "10", {"currency": "EURO"}, errors.ValidationError),
])
def test_bad_budgets_are_refused_and_nothing_is_written(books, name, amount, fields, error):
    with pytest.raises(error):
        make(books, name, amount, **fields)
    assert not Budget.objects.filter(tenant=books["tenant"]).exists()
    assert not AuditEntry.objects.filter(tenant=books["tenant"], action__startswith="budget.").exists()


def test_one_budget_per_category_and_only_the_tenants_categories(books):
    make(books, "Food", "100.00")
    with pytest.raises(errors.Conflict):
        make(books, "Food", "50.00")
    stranger = factories.organization(factories.user())
    with pytest.raises(errors.ValidationError):
        budgets.budget_create(tenant=books["tenant"], actor=books["owner"], today=dt.date(2024, 1, 1),
                              category_id=category(stranger, "Shopping").pk, amount="10")
    with pytest.raises(errors.NotFound):
        budgets.budget_get(tenant=stranger, budget_id=Budget.objects.get(tenant=books["tenant"]).pk)
    assert Budget.objects.filter(tenant=books["tenant"]).count() == 1


def test_deleting_a_category_deletes_its_budget(books):
    from coffer.ledger import services as ledger_services

    budget = make(books, "Groceries", "100.00")
    ledger_services.category_delete(tenant=books["tenant"], actor=books["owner"], category_id=budget.category_id)
    assert not Budget.objects.filter(pk=budget.pk).exists()
