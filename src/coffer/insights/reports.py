"""Reports: cash flow per month, spending and income by category, net worth over time, budget vs actual.

Every report is a selector that aggregates in the database (GROUP BY month / category and currency)
and runs a fixed number of queries whatever the number of transactions; Python only arranges the
grouped rows (at most MAX_MONTHS months x currencies, or categories x currencies).

- A period is [date_from, date_to], both days included. Transactions carry dates, not times, so
  nothing is shifted by a time zone; "today", where a caller needs a default, is the day in the
  person's time zone (`today_in`).
- Income and expenses follow ledger.transfers: transfers are left out, refunds in expense
  categories lower spending, and income - expenses = the sum of what is counted.
- Amounts are grouped per currency, never added across currencies. With `convert`, a report also
  converts into the tenant's base currency with the tenant's exchange rates (ledger.exchange_rates:
  latest rate on or before the last day of each month, or of the period) and lists the rates it
  used; if a rate is missing the converted figures are None and `missing` says which currency
  lacked a rate for which day, rather than a total that silently leaves money out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from decimal import Decimal

from django.db import models
from django.db.models.functions import TruncMonth
from django.utils import timezone

from coffer import errors, money
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger import exchange_rates, transfers
from coffer.ledger.models import Account, Category, Transaction
from coffer.ops import replica, tenant_cache
from coffer.tenancy.models import Tenant

MAX_MONTHS = 120
ZERO = money.stored(None)
UNCATEGORIZED = "Uncategorized"


def today_in(time_zone: str) -> dt.date:
    """Today in this IANA time zone (UTC when the name is unknown)."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.timezone.utc
    return timezone.now().astimezone(zone).date()


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def months_of(date_from: dt.date, date_to: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[first, last] day of each calendar month the period touches, clipped to the period."""
    if date_from > date_to:
        raise errors.ValidationError("date_from is after date_to", field_errors={"date_from": "After date_to."})
    count = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
    if count > MAX_MONTHS:
        raise errors.ValidationError(
            f"A report covers at most {MAX_MONTHS} months",
            field_errors={"date_from": f"At most {MAX_MONTHS} months before date_to."},
        )
    buckets, start = [], date_from
    while start <= date_to:
        end = min(_month_end(start), date_to)
        buckets.append((start, end))
        start = end + dt.timedelta(days=1)
    return buckets


def _transactions() -> models.QuerySet:
    """Transactions, read from the replica when there is one (ops.replica)."""
    return Transaction.objects.using(replica.read_alias())


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


@dataclasses.dataclass(frozen=True)
class Conversion:
    """What converting into `base` took: the rates used, and (currency, day) pairs that had none."""

    base: str
    rates: tuple[exchange_rates.RateUsed, ...]
    missing: tuple[tuple[str, dt.date], ...]

    @property
    def complete(self) -> bool:
        return not self.missing


class _Converter:
    """Looks up every rate a report needs in one query, then converts amounts of (currency, day)."""

    def __init__(self, *, tenant: Tenant, wanted: set[tuple[str, dt.date]]):
        self.base = tenant.base_currency
        self.found = exchange_rates.rates_for(tenant=tenant, base=self.base, wanted=wanted)
        self.used: dict[tuple[str, dt.date], exchange_rates.RateUsed] = {}
        self.missing: set[tuple[str, dt.date]] = set()

    def convert(self, amount: Decimal, *, currency: str, day: dt.date) -> Decimal | None:
        if currency == self.base:
            return amount
        rate = self.found.get((currency, day))
        if rate is None:
            self.missing.add((currency, day))
            return None
        self.used[(currency, day)] = rate
        return rate.convert(amount)

    def conversion(self) -> Conversion:
        return Conversion(base=self.base, rates=tuple(self.used[key] for key in sorted(self.used)),
                          missing=tuple(sorted(self.missing)))


# --- cash flow ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FlowLine:
    start: dt.date  # first day of the month within the period
    end: dt.date  # last day of the month within the period
    income: Decimal
    expenses: Decimal  # positive: money that went out, refunds taken off

    @property
    def net(self) -> Decimal:
        return self.income - self.expenses


@dataclasses.dataclass(frozen=True)
class CashflowReport:
    date_from: dt.date
    date_to: dt.date
    by_currency: dict[str, list[FlowLine]]
    converted: list[FlowLine] | None = None  # in conversion.base; None when not asked or incomplete
    conversion: Conversion | None = None

    def total(self, currency: str) -> FlowLine:
        lines = self.by_currency[currency]
        return FlowLine(start=self.date_from, end=self.date_to, income=sum((line.income for line in lines), ZERO),
                        expenses=sum((line.expenses for line in lines), ZERO))


@tenant_cache.cached_selector("reports.cashflow")
def cashflow(*, tenant: Tenant, date_from: dt.date, date_to: dt.date, convert: bool = False) -> CashflowReport:
    """Income and expenses per calendar month and currency over the period (one query; two with `convert`).
    Months without transactions are zeros, for every currency that has any in the period."""
    buckets = months_of(date_from, date_to)
    rows = (
        transfers.counted(_transactions().filter(tenant=tenant, booked_on__range=(date_from, date_to)))
        .annotate(month=TruncMonth("booked_on"))
        .values("month", "account__currency")
        .annotate(income=models.Sum("amount", filter=transfers.INCOME_SIDE),
                  expenses=models.Sum("amount", filter=transfers.EXPENSE_SIDE))
        .order_by()
    )
    found: dict[str, dict[dt.date, tuple[Decimal, Decimal]]] = {}
    for row in rows:
        found.setdefault(row["account__currency"], {})[_as_date(row["month"])] = (
            money.stored(row["income"]), -money.stored(row["expenses"]))
    by_currency = {
        currency: [FlowLine(start, end, *months.get(start.replace(day=1), (ZERO, ZERO))) for start, end in buckets]
        for currency, months in sorted(found.items())
    }
    if not convert:
        return CashflowReport(date_from=date_from, date_to=date_to, by_currency=by_currency)
    converter = _Converter(tenant=tenant, wanted={(c, end) for c in by_currency for _, end in buckets})
    converted = []
    for index, (start, end) in enumerate(buckets):
        income, expenses = ZERO, ZERO
        for currency, lines in by_currency.items():
            line = lines[index]
            if line.income or line.expenses:
                income_in = converter.convert(line.income, currency=currency, day=end)
                expenses_in = converter.convert(line.expenses, currency=currency, day=end)
                if income_in is not None:
                    income, expenses = income + income_in, expenses + expenses_in
        converted.append(FlowLine(start, end, income, expenses))
    conversion = converter.conversion()
    return CashflowReport(date_from=date_from, date_to=date_to, by_currency=by_currency,
                          converted=converted if conversion.complete else None, conversion=conversion)


# --- spending and income by category -----------------------------------------


@dataclasses.dataclass(frozen=True)
class CategoryLine:
    category_id: object | None  # None: uncategorized
    name: str
    group_id: object | None  # the top-level category (itself when it is top-level)
    group_name: str
    amount: Decimal  # income received, or spending (refunds taken off), as a positive figure


@dataclasses.dataclass(frozen=True)
class CategoryTotals:
    income: list[CategoryLine]
    spending: list[CategoryLine]

    @property
    def total_income(self) -> Decimal:
        return sum((line.amount for line in self.income), ZERO)

    @property
    def total_spending(self) -> Decimal:
        return sum((line.amount for line in self.spending), ZERO)

    def groups(self, side: str) -> list[CategoryLine]:
        """The lines of `side` ("income" or "spending") added up per top-level category, largest first."""
        totals: dict[object, CategoryLine] = {}
        for line in getattr(self, side):
            seen = totals.get(line.group_id)
            amount = line.amount + (seen.amount if seen else ZERO)
            totals[line.group_id] = CategoryLine(line.group_id, line.group_name, line.group_id, line.group_name, amount)
        return _largest_first(totals.values())


@dataclasses.dataclass(frozen=True)
class CategoryReport:
    date_from: dt.date
    date_to: dt.date
    by_currency: dict[str, CategoryTotals]
    converted: CategoryTotals | None = None
    conversion: Conversion | None = None


def _largest_first(lines) -> list[CategoryLine]:
    return sorted(lines, key=lambda line: (-line.amount, line.name.casefold()))


@tenant_cache.cached_selector("reports.by_category")
def by_category(*, tenant: Tenant, date_from: dt.date, date_to: dt.date, convert: bool = False) -> CategoryReport:
    """Spending and income per category and currency over the period (one query; two with `convert`).
    Uncategorized money is split by sign into an "Uncategorized" line on each side."""
    months_of(date_from, date_to)
    rows = (
        transfers.counted(_transactions().filter(tenant=tenant, booked_on__range=(date_from, date_to)))
        .values("account__currency", "category_id", "category__name", "category__kind", "category__parent_id",
                "category__parent__name")
        .annotate(total=models.Sum("amount"), positive=models.Sum("amount", filter=models.Q(amount__gt=0)),
                  negative=models.Sum("amount", filter=models.Q(amount__lt=0)))
        .order_by()
    )
    sides: dict[str, dict[str, list[CategoryLine]]] = {}
    for row in rows:
        income, spending = sides.setdefault(row["account__currency"], {"income": [], "spending": []}).values()
        if row["category_id"] is None:
            if row["positive"]:
                income.append(CategoryLine(None, UNCATEGORIZED, None, UNCATEGORIZED, money.stored(row["positive"])))
            if row["negative"]:
                spending.append(CategoryLine(None, UNCATEGORIZED, None, UNCATEGORIZED, -money.stored(row["negative"])))
            continue
        group_id = row["category__parent_id"] or row["category_id"]
        group_name = row["category__parent__name"] or row["category__name"]
        total = money.stored(row["total"])
        if row["category__kind"] == Category.Kind.INCOME:
            income.append(CategoryLine(row["category_id"], row["category__name"], group_id, group_name, total))
        else:
            spending.append(CategoryLine(row["category_id"], row["category__name"], group_id, group_name, -total))
    by_currency = {
        currency: CategoryTotals(income=_largest_first(found["income"]), spending=_largest_first(found["spending"]))
        for currency, found in sorted(sides.items())
    }
    if not convert:
        return CategoryReport(date_from=date_from, date_to=date_to, by_currency=by_currency)
    converter = _Converter(tenant=tenant, wanted={(currency, date_to) for currency in by_currency})
    merged: dict[str, dict[object, CategoryLine]] = {"income": {}, "spending": {}}
    for currency, totals in by_currency.items():
        for side in ("income", "spending"):
            for line in getattr(totals, side):
                amount = converter.convert(line.amount, currency=currency, day=date_to)
                if amount is None:
                    continue
                seen = merged[side].get(line.category_id)
                merged[side][line.category_id] = dataclasses.replace(
                    line, amount=amount + (seen.amount if seen else ZERO))
    conversion = converter.conversion()
    converted = CategoryTotals(income=_largest_first(merged["income"].values()),
                               spending=_largest_first(merged["spending"].values()))
    return CategoryReport(date_from=date_from, date_to=date_to, by_currency=by_currency,
                          converted=converted if conversion.complete else None, conversion=conversion)


# --- net worth ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NetWorthPoint:
    day: dt.date  # the last day of the month (or the period's last day)
    balance: Decimal  # every account of the currency, opening balances included, at the end of `day`


@dataclasses.dataclass(frozen=True)
class NetWorthReport:
    date_from: dt.date
    date_to: dt.date
    by_currency: dict[str, list[NetWorthPoint]]
    converted: list[NetWorthPoint] | None = None
    conversion: Conversion | None = None


@tenant_cache.cached_selector("reports.net_worth")
def net_worth(*, tenant: Tenant, date_from: dt.date, date_to: dt.date, convert: bool = False) -> NetWorthReport:
    """What the tenant's accounts held per currency at the end of each month of the period (archived
    accounts too; transfers move money between accounts and change nothing in one currency).
    Three queries (four with `convert`): opening balances, everything before the period, each month."""
    buckets = months_of(date_from, date_to)
    opening = {
        row["currency"]: money.stored(row["total"])
        for row in Account.objects.using(replica.read_alias()).filter(tenant=tenant).values("currency")
        .annotate(total=models.Sum("opening_balance"))
        .order_by()
    }
    before = {
        row["account__currency"]: money.stored(row["total"])
        for row in _transactions().filter(tenant=tenant, booked_on__lt=date_from).values("account__currency")
        .annotate(total=models.Sum("amount")).order_by()
    }
    monthly: dict[str, dict[dt.date, Decimal]] = {}
    for row in (
        _transactions().filter(tenant=tenant, booked_on__range=(date_from, date_to))
        .annotate(month=TruncMonth("booked_on")).values("month", "account__currency")
        .annotate(total=models.Sum("amount")).order_by()
    ):
        monthly.setdefault(row["account__currency"], {})[_as_date(row["month"])] = money.stored(row["total"])
    by_currency = {}
    for currency in sorted(set(opening) | set(before) | set(monthly)):
        balance = opening.get(currency, ZERO) + before.get(currency, ZERO)
        points = []
        for start, end in buckets:
            balance += monthly.get(currency, {}).get(start.replace(day=1), ZERO)
            points.append(NetWorthPoint(day=end, balance=balance))
        by_currency[currency] = points
    if not convert:
        return NetWorthReport(date_from=date_from, date_to=date_to, by_currency=by_currency)
    converter = _Converter(tenant=tenant, wanted={(currency, point.day) for currency, points in by_currency.items()
                                                  for point in points if point.balance})
    converted = []
    for index, (_, end) in enumerate(buckets):
        total = ZERO
        for currency, points in by_currency.items():
            if points[index].balance:
                total += converter.convert(points[index].balance, currency=currency, day=end) or ZERO
        converted.append(NetWorthPoint(day=end, balance=total))
    conversion = converter.conversion()
    return NetWorthReport(date_from=date_from, date_to=date_to, by_currency=by_currency,
                          converted=converted if conversion.complete else None, conversion=conversion)


# --- budget vs actual ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BudgetReport:
    on: dt.date
    lines: list[ledger_budgets.BudgetProgress]


@tenant_cache.cached_selector("reports.budget_vs_actual")
def budget_vs_actual(*, tenant: Tenant, on: dt.date) -> BudgetReport:
    """Each budget against what was spent in its period containing `on` (at most three queries)."""
    budgets = ledger_budgets.budget_list(tenant=tenant)
    return BudgetReport(on=on, lines=ledger_budgets.budget_progress(tenant=tenant, budgets=budgets, on=on))


# --- fees per account and month (issue 6, fees) ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FeeLine:
    account_id: object
    account_name: str
    currency: str
    month: dt.date
    total: Decimal  # what was charged: the negated sum of the fee transactions (refunded fees lower it)
    count: int


@tenant_cache.cached_selector("reports.fees")
def fee_report(*, tenant: Tenant, date_from: dt.date, date_to: dt.date) -> list[FeeLine]:
    """Fees (transactions in the "Fees & charges" tree) per account and month of [date_from, date_to], in the
    account's currency; one grouped query, at most MAX_MONTHS months x accounts rows."""
    from coffer.ledger import fees as ledger_fees

    months_of(date_from, date_to)  # refuses a period over MAX_MONTHS
    rows = (
        Transaction.objects.filter(
            tenant=tenant, booked_on__gte=date_from, booked_on__lte=date_to,
            category_id__in=ledger_fees.fees_category_ids(tenant),
        )
        .annotate(month=TruncMonth("booked_on"))
        .values("account_id", "account__name", "account__currency", "month")
        .annotate(total=models.Sum("amount"), count=models.Count("id"))
        .order_by("account__name", "account_id", "month")
    )
    return [
        FeeLine(account_id=row["account_id"], account_name=row["account__name"], currency=row["account__currency"],
                month=_as_date(row["month"]), total=ZERO - money.stored(row["total"]), count=row["count"])
        for row in rows
    ]
