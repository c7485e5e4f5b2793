"""Aggregates for the dashboard and account pages: one grouped query each, bounded by months.

Amounts are summed per currency, never across currencies; months without transactions are
filled with zeros so a chart's bars line up with the calendar.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models.functions import TruncMonth

from coffer import errors, money
from coffer.ledger import transfers
from coffer.ledger.models import Account, Transaction
from coffer.ops import replica, tenant_cache
from coffer.tenancy.models import Tenant

MAX_MONTHS = 36
ZERO = Decimal("0")


@dataclasses.dataclass(frozen=True)
class MonthFlow:
    month: dt.date  # first day of the month
    income: Decimal
    expenses: Decimal  # positive: money that went out

    @property
    def net(self) -> Decimal:
        return self.income - self.expenses


@dataclasses.dataclass(frozen=True)
class MonthBalance:
    month: dt.date
    balance: Decimal  # at the end of the month


def _check_months(months: int) -> None:
    if not 1 <= months <= MAX_MONTHS:
        raise errors.ValidationError(f"months must be between 1 and {MAX_MONTHS}",
                                     field_errors={"months": f"Between 1 and {MAX_MONTHS}."})


def month_starts(*, months: int, today: dt.date) -> list[dt.date]:
    """The first days of the last `months` calendar months, oldest first, ending with today's month."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def _transactions() -> models.QuerySet:
    """Transactions, read from the replica when there is one (ops.replica)."""
    return Transaction.objects.using(replica.read_alias())


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


@tenant_cache.cached_selector("insights.monthly_cashflow")
def monthly_cashflow(*, tenant: Tenant, months: int = 12, today: dt.date | None = None) -> dict[str, list[MonthFlow]]:
    """Income and expenses per calendar month and currency for the last `months` months.

    Transfers between the tenant's own accounts are left out, and refunds (positive amounts in expense
    categories) lower expenses: the rules of ledger.transfers, shared with every report."""
    _check_months(months)
    starts = month_starts(months=months, today=today or dt.date.today())
    rows = (
        _transactions().filter(tenant=tenant, booked_on__gte=starts[0])
        .filter(transfers.COUNTED)
        .annotate(month=TruncMonth("booked_on"))
        .values("month", "account__currency")
        .annotate(
            income=models.Sum("amount", filter=transfers.INCOME_SIDE),
            expenses=models.Sum("amount", filter=transfers.EXPENSE_SIDE),
        )
        .order_by()
    )
    found: dict[str, dict[dt.date, MonthFlow]] = {}
    for row in rows:
        month = _as_date(row["month"])
        found.setdefault(row["account__currency"], {})[month] = MonthFlow(
            month=month, income=money.stored(row["income"]), expenses=-money.stored(row["expenses"]))
    return {
        currency: [by_month.get(start, MonthFlow(month=start, income=ZERO, expenses=ZERO)) for start in starts]
        for currency, by_month in sorted(found.items())
    }


@tenant_cache.cached_selector("insights.balance_history")
def balance_history(*, account: Account, months: int = 12, today: dt.date | None = None) -> list[MonthBalance]:
    """The account's balance at the end of each of the last `months` months (the current month: today)."""
    _check_months(months)
    starts = month_starts(months=months, today=today or dt.date.today())
    before = money.stored(_transactions().filter(
        tenant_id=account.tenant_id, account=account, booked_on__lt=starts[0]).aggregate(total=models.Sum("amount"))["total"])
    monthly = {
        _as_date(row["month"]): money.stored(row["total"])
        for row in _transactions().filter(tenant_id=account.tenant_id, account=account, booked_on__gte=starts[0])
        .annotate(month=TruncMonth("booked_on")).values("month").annotate(total=models.Sum("amount")).order_by()
    }
    balance = account.opening_balance + before
    history = []
    for start in starts:
        balance += monthly.get(start, ZERO)
        history.append(MonthBalance(month=start, balance=balance))
    return history


# --- spending by category (the dashboard's chart) -------------------------------------


@dataclasses.dataclass(frozen=True)
class CategorySpend:
    """Money spent in a category over a period, refunds taken off (so it can be negative).

    A top-level line (`category_id` None: uncategorized money that went out) carries its subcategories'
    spending in `amount` and lists them in `children`; `own` is what was booked on the line itself."""

    category_id: object | None
    name: str
    color: str
    amount: Decimal
    own: Decimal = ZERO
    children: tuple[CategorySpend, ...] = ()


UNCATEGORIZED_NAME = "Uncategorized"
MAX_SPENDING_DAYS = 366 * 10


@tenant_cache.cached_selector("insights.spending_by_category")
def spending_by_category(*, tenant: Tenant, start: dt.date, end: dt.date) -> dict[str, list[CategorySpend]]:
    """Spending per top-level category (with its subcategories) and currency over [start, end], both days
    included; largest first. One grouped query.

    Spending follows ledger.transfers: transfers between the tenant's own accounts and categories of kind
    "transfer" are left out, expense categories count every amount (a refund lowers spending), and
    uncategorized money counts when it went out. Income categories are not spending."""
    if start > end:
        raise errors.ValidationError("The period starts after it ends", field_errors={"start": "After the end."})
    if (end - start).days > MAX_SPENDING_DAYS:
        raise errors.ValidationError("A period covers at most ten years", field_errors={"start": "At most ten years."})
    rows = (
        _transactions().filter(tenant=tenant, booked_on__gte=start, booked_on__lte=end)
        .filter(transfers.COUNTED)
        .filter(transfers.EXPENSE_SIDE)
        .values("account__currency", "category_id", "category__name", "category__color", "category__parent_id",
                "category__parent__name", "category__parent__color")
        .annotate(total=models.Sum("amount"))
        .order_by()
    )
    found: dict[str, dict[object, dict]] = {}
    for row in rows:
        spent = -money.stored(row["total"])
        groups = found.setdefault(row["account__currency"], {})
        parent_id = row["category__parent_id"]
        key = parent_id or row["category_id"]
        if parent_id is not None:
            name, color = row["category__parent__name"], row["category__parent__color"]
        elif key is not None:
            name, color = row["category__name"], row["category__color"]
        else:
            name, color = UNCATEGORIZED_NAME, ""
        group = groups.setdefault(key, {"name": name, "color": color or "", "own": ZERO, "children": []})
        if parent_id is None:
            group["own"] += spent
        else:
            group["children"].append(CategorySpend(
                category_id=row["category_id"], name=row["category__name"], color=row["category__color"] or "",
                amount=spent, own=spent))

    def largest_first(lines):
        return sorted(lines, key=lambda line: (-line.amount, line.name.casefold()))

    result = {}
    for currency, groups in sorted(found.items()):
        lines = []
        for key, group in groups.items():
            children = tuple(largest_first(group["children"]))
            total = group["own"] + sum((child.amount for child in children), ZERO)
            lines.append(CategorySpend(category_id=key, name=group["name"], color=group["color"], amount=total,
                                       own=group["own"], children=children))
        result[currency] = largest_first(lines)
    return result


def transactions_per_category(*, tenant: Tenant) -> dict[object, int]:
    """How many transactions each category holds (its own, not its subcategories'); None: uncategorized.
    One grouped query; at most one row per category (500) plus one."""
    rows = (
        _transactions().filter(tenant=tenant).values("category_id").annotate(count=models.Count("id")).order_by()
    )
    return {row["category_id"]: row["count"] for row in rows}
