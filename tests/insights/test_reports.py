"""Report figures against totals computed here, independently, from the rows the test wrote.

The books: February 2024 (a leap year) in EUR and USD, with rows on the day before, the first day,
the last day and the day after; a salary, groceries and a refund of them, uncategorized money both
ways, a transfer between two EUR accounts (linked), a payment into a "transfer" category, and a
currency without any exchange rate in one test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors
from coffer.insights import reports
from coffer.insights import selectors as insights
from coffer.ledger import budgets, exchange_rates, transfers
from coffer.ledger.models import Category
from tests import factories
from tests.querycount import count_queries

FEB_1, FEB_29 = dt.date(2024, 2, 1), dt.date(2024, 2, 29)


@dataclasses.dataclass(frozen=True)
class Row:
    account: str
    day: dt.date
    amount: str
    category: str | None  # a category name, or None
    kind: str  # what the test knows the row to be: income, expense, refund, transfer


# What the books hold, and what each row is. Expected figures are computed from this list alone.
ROWS = [
    Row("eur", dt.date(2024, 1, 31), "-11.00", "Groceries", "expense"),  # day before
    Row("eur", FEB_1, "3000.00", "Salary", "income"),  # first day
    Row("eur", FEB_1, "-50.25", "Groceries", "expense"),
    Row("eur", dt.date(2024, 2, 10), "20.00", "Groceries", "refund"),
    Row("eur", dt.date(2024, 2, 12), "-64.00", "Restaurants", "expense"),
    Row("eur", dt.date(2024, 2, 15), "-500.00", None, "transfer"),  # linked with the next row
    Row("savings", dt.date(2024, 2, 16), "500.00", None, "transfer"),
    Row("eur", dt.date(2024, 2, 20), "-100.00", None, "expense"),  # uncategorized out
    Row("eur", dt.date(2024, 2, 21), "15.00", None, "income"),  # uncategorized in
    Row("eur", dt.date(2024, 2, 22), "-30.00", "Transfers", "transfer"),  # a "transfer" category
    Row("eur", FEB_29, "-40.00", "Groceries", "expense"),  # last day
    Row("eur", dt.date(2024, 3, 1), "-7.00", "Groceries", "expense"),  # day after
    Row("usd", dt.date(2024, 2, 5), "-60.00", "Clothing", "expense"),
    Row("usd", FEB_29, "100.00", "Salary", "income"),
]
CURRENCY = {"eur": "EUR", "savings": "EUR", "usd": "USD"}


def expected(currency: str, start: dt.date, end: dt.date) -> tuple[Decimal, Decimal]:
    """(income, expenses) from ROWS: transfers out, refunds off expenses."""
    income = expenses = Decimal("0")
    for row in ROWS:
        if CURRENCY[row.account] != currency or not start <= row.day <= end:
            continue
        if row.kind == "income":
            income += Decimal(row.amount)
        elif row.kind in ("expense", "refund"):
            expenses -= Decimal(row.amount)
    return income, expenses


@pytest.fixture
def books(db):
    owner = factories.user()
    tenant = factories.organization(owner)  # base currency EUR
    accounts = {
        "eur": factories.account(tenant, name="Checking", currency="EUR", opening_balance="1000.00"),
        "savings": factories.account(tenant, name="Savings", currency="EUR", opening_balance="250.00"),
        "usd": factories.account(tenant, name="Dollars", currency="USD", opening_balance="10.00"),
    }
    made = []
    for row in ROWS:
        category = Category.objects.get(tenant=tenant, name=row.category).pk if row.category else None
        made.append(factories.transaction(accounts[row.account], amount=row.amount, booked_on=row.day,
                                          category_id=category))
    out, into = (made[i] for i, row in enumerate(ROWS) if row.kind == "transfer" and row.category is None)
    transfers.link(tenant=tenant, actor=owner, transaction_id=out.pk, pair_id=into.pk)
    stranger = factories.organization(factories.user())
    factories.transaction(factories.account(stranger, currency="EUR"), amount="-999.00", booked_on=dt.date(2024, 2, 14))
    return {"tenant": tenant, "owner": owner, **accounts}


def rate(tenant, day, source, target, value):
    exchange_rates.rate_create(tenant=tenant, actor=None, date=day, from_currency=source, to_currency=target, rate=value)


# --- cash flow ----------------------------------------------------------------


def test_cashflow_matches_totals_computed_from_the_rows(books, django_assert_num_queries):
    with django_assert_num_queries(1):
        report = reports.cashflow(tenant=books["tenant"], date_from=FEB_1, date_to=FEB_29)
    assert list(report.by_currency) == ["EUR", "USD"]
    for currency in ("EUR", "USD"):
        (line,) = report.by_currency[currency]
        assert (line.start, line.end) == (FEB_1, FEB_29)
        assert (line.income, line.expenses) == expected(currency, FEB_1, FEB_29)
    eur = report.by_currency["EUR"][0]
    assert (eur.income, eur.expenses, eur.net) == (Decimal("3015.00"), Decimal("234.25"), Decimal("2780.75"))


def test_cashflow_months_include_the_first_and_last_day_of_a_period_that_cuts_months(books):
    report = reports.cashflow(tenant=books["tenant"], date_from=dt.date(2024, 1, 31), date_to=dt.date(2024, 3, 1))
    lines = report.by_currency["EUR"]
    assert [(line.start, line.end) for line in lines] == [
        (dt.date(2024, 1, 31), dt.date(2024, 1, 31)), (FEB_1, FEB_29), (dt.date(2024, 3, 1), dt.date(2024, 3, 1))]
    assert [(line.income, line.expenses) for line in lines] == [
        expected("EUR", line.start, line.end) for line in lines]
    assert lines[0].expenses == Decimal("11.00") and lines[2].expenses == Decimal("7.00")
    assert report.total("EUR").expenses == sum(expected("EUR", line.start, line.end)[1] for line in lines)
    # a period of one day: the last day of February alone
    (last,) = reports.cashflow(tenant=books["tenant"], date_from=FEB_29, date_to=FEB_29).by_currency["EUR"]
    assert (last.income, last.expenses) == expected("EUR", FEB_29, FEB_29) == (Decimal("0"), Decimal("40.00"))


def test_cashflow_converts_into_the_base_currency_and_says_with_which_rates(books, django_assert_num_queries):
    rate(books["tenant"], dt.date(2024, 2, 20), "USD", "EUR", "0.9")
    rate(books["tenant"], dt.date(2024, 3, 5), "USD", "EUR", "5")  # after the period: not used
    with django_assert_num_queries(2):
        report = reports.cashflow(tenant=books["tenant"], date_from=FEB_1, date_to=FEB_29, convert=True)
    usd_in, usd_out = expected("USD", FEB_1, FEB_29)
    eur_in, eur_out = expected("EUR", FEB_1, FEB_29)
    (line,) = report.converted
    assert (line.income, line.expenses) == (eur_in + usd_in * Decimal("0.9"), eur_out + usd_out * Decimal("0.9"))
    assert report.conversion.base == "EUR" and report.conversion.complete
    assert [(r.currency, r.on, r.rate_date, r.rate) for r in report.conversion.rates] == [
        ("USD", FEB_29, dt.date(2024, 2, 20), Decimal("0.9"))]


def test_a_missing_rate_gives_no_converted_figures_and_names_the_currency(books):
    chf = factories.account(books["tenant"], currency="CHF")
    factories.transaction(chf, amount="-5.00", booked_on=dt.date(2024, 2, 3))
    rate(books["tenant"], dt.date(2024, 2, 1), "USD", "EUR", "0.9")
    report = reports.cashflow(tenant=books["tenant"], date_from=FEB_1, date_to=FEB_29, convert=True)
    assert report.converted is None
    assert report.conversion.missing == (("CHF", FEB_29),)
    assert report.by_currency["CHF"][0].expenses == Decimal("5.00")  # still there, per currency


def test_the_dashboard_cashflow_leaves_transfers_out_and_takes_refunds_off(books, django_assert_num_queries):
    with django_assert_num_queries(1):
        flows = insights.monthly_cashflow(tenant=books["tenant"], months=2, today=dt.date(2024, 2, 29))
    jan, feb = flows["EUR"]
    assert (feb.income, feb.expenses) == expected("EUR", FEB_1, FEB_29)
    assert (jan.income, jan.expenses) == expected("EUR", dt.date(2024, 1, 1), dt.date(2024, 1, 31))


# --- by category --------------------------------------------------------------


def test_spending_and_income_by_category_match_the_rows(books, django_assert_num_queries):
    with django_assert_num_queries(1):
        report = reports.by_category(tenant=books["tenant"], date_from=FEB_1, date_to=FEB_29)
    eur = report.by_currency["EUR"]
    spending = {line.name: line.amount for line in eur.spending}
    income = {line.name: line.amount for line in eur.income}
    groceries = -sum(Decimal(r.amount) for r in ROWS
                     if r.category == "Groceries" and FEB_1 <= r.day <= FEB_29 and r.account == "eur")
    assert spending == {"Groceries": groceries, "Restaurants": Decimal("64.00"), "Uncategorized": Decimal("100.00")}
    assert groceries == Decimal("70.25")  # 50.25 + 40 - the 20 refund
    assert income == {"Salary": Decimal("3000.00"), "Uncategorized": Decimal("15.00")}
    assert (eur.total_income, eur.total_spending) == expected("EUR", FEB_1, FEB_29)
    assert [(g.name, g.amount) for g in eur.groups("spending")] == [
        ("Food", groceries + Decimal("64.00")), ("Uncategorized", Decimal("100.00"))]
    assert "Transfers" not in spending
    usd = report.by_currency["USD"]
    assert ([(line.name, line.group_name, line.amount) for line in usd.spending], usd.total_income) == (
        [("Clothing", "Shopping", Decimal("60.00"))], Decimal("100.00"))


def test_category_report_converted_merges_currencies_per_category(books):
    rate(books["tenant"], dt.date(2024, 2, 1), "EUR", "USD", "1.25")  # stored the other way round: divide
    report = reports.by_category(tenant=books["tenant"], date_from=FEB_1, date_to=FEB_29, convert=True)
    income = {line.name: line.amount for line in report.converted.income}
    assert income["Salary"] == Decimal("3000.00") + Decimal("100.00") / Decimal("1.25")
    assert report.conversion.rates[0].inverse is True


# --- net worth ----------------------------------------------------------------


def test_net_worth_at_each_month_end_matches_opening_balances_plus_every_row_up_to_it(books, django_assert_num_queries):
    with django_assert_num_queries(3):
        report = reports.net_worth(tenant=books["tenant"], date_from=dt.date(2024, 1, 1), date_to=FEB_29)
    opening = {"EUR": Decimal("1250.00"), "USD": Decimal("10.00")}
    for currency, points in report.by_currency.items():
        for point in points:
            assert point.balance == opening[currency] + sum(
                Decimal(r.amount) for r in ROWS if CURRENCY[r.account] == currency and r.day <= point.day)
    assert [p.day for p in report.by_currency["EUR"]] == [dt.date(2024, 1, 31), FEB_29]
    # the transfer moved money between two EUR accounts: February's net worth change is the counted net
    jan, feb = report.by_currency["EUR"]
    income, expenses = expected("EUR", FEB_1, FEB_29)
    assert feb.balance - jan.balance == income - expenses - Decimal("30.00")  # the "transfer" category left


def test_net_worth_converted_uses_each_month_ends_rate(books):
    rate(books["tenant"], dt.date(2024, 1, 31), "USD", "EUR", "0.5")
    rate(books["tenant"], dt.date(2024, 2, 29), "USD", "EUR", "0.8")
    report = reports.net_worth(tenant=books["tenant"], date_from=dt.date(2024, 1, 1), date_to=FEB_29, convert=True)
    eur, usd = report.by_currency["EUR"], report.by_currency["USD"]
    assert [p.balance for p in report.converted] == [
        eur[0].balance + usd[0].balance * Decimal("0.5"), eur[1].balance + usd[1].balance * Decimal("0.8")]


# --- budget vs actual ---------------------------------------------------------


def test_budget_vs_actual_counts_refunds_and_leaves_transfers_out(books):
    food = Category.objects.get(tenant=books["tenant"], name="Food")
    budgets.budget_create(tenant=books["tenant"], actor=books["owner"], today=FEB_1, category_id=food.pk, amount="150")
    report = reports.budget_vs_actual(tenant=books["tenant"], on=FEB_29)
    (line,) = report.lines
    assert line.spent == Decimal("50.25") - Decimal("20.00") + Decimal("64.00") + Decimal("40.00")
    assert (line.left, line.status) == (Decimal("150") - line.spent, "warning")


# --- bounds ---------------------------------------------------------------------


def test_reports_run_the_same_queries_for_a_few_rows_or_hundreds(books):
    def queries():
        with count_queries() as seen:
            reports.cashflow(tenant=books["tenant"], date_from=dt.date(2023, 1, 1), date_to=FEB_29, convert=True)
            reports.by_category(tenant=books["tenant"], date_from=dt.date(2023, 1, 1), date_to=FEB_29, convert=True)
            reports.net_worth(tenant=books["tenant"], date_from=dt.date(2023, 1, 1), date_to=FEB_29, convert=True)
        return len(seen)

    rate(books["tenant"], dt.date(2023, 1, 1), "USD", "EUR", "0.9")
    before = queries()
    groceries = Category.objects.get(tenant=books["tenant"], name="Groceries").pk
    for i in range(200):
        factories.transaction(books["usd"], amount="-1.00", booked_on=dt.date(2023, 1 + i % 12, 1 + i % 28),
                              category_id=groceries)
    assert queries() == before == 2 + 2 + 4


@pytest.mark.parametrize("date_from, date_to", [
    (dt.date(2024, 3, 1), dt.date(2024, 2, 1)),
    (dt.date(2014, 1, 1), dt.date(2024, 1, 1)),  # 121 months
])
def test_periods_are_checked(books, date_from, date_to):
    for report in (reports.cashflow, reports.by_category, reports.net_worth):
        with pytest.raises(errors.ValidationError):
            report(tenant=books["tenant"], date_from=date_from, date_to=date_to)


def test_today_is_the_day_in_the_persons_time_zone():
    east, west = reports.today_in("Pacific/Kiritimati"), reports.today_in("Etc/GMT+12")  # UTC+14 and UTC-12
    assert (east - west).days in (1, 2)  # 26 hours apart: never the same day
    assert reports.today_in("Not/AZone") == reports.today_in("UTC")
