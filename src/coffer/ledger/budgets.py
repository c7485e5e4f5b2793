"""Budgets: a spending limit per expense category (a top-level one covers its subcategories) per
calendar month, quarter or year; services that change them, selectors for their progress.

Spending in a period is what the ledger counts as expenses (ledger.transfers): the negated sum of
the category's transactions booked in [first day, last day] of the period, transfers left out, so
a refund lowers it. Transactions in accounts of another currency than the budget's are converted
with the tenant's exchange rate for the period's last day (ledger.exchange_rates); when there is
none that spending is reported as `unconverted` and not counted.

Rollover: the budget of every period since `starts_on` carries what was left (or overspent) into
the next, so available = amount x (past periods + 1) - spending since `starts_on` before this
period. Past periods are counted with the budget's current amount.

Progress: spent, left (available - spent), percent of available, a projection of spending at the
end of the period (spent so far / days gone x days in the period), and a status: "over" when spent
is above available, "warning" from WARNING_PERCENT of it, else "ok". Each progress selector runs
a fixed number of queries, whatever the number of budgets and transactions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction

from coffer import errors, money
from coffer.audit import services as audit_services
from coffer.ledger import exchange_rates, transfers
from coffer.ledger.models import Budget, Category, Transaction
from coffer.tenancy.models import Tenant, User

MAX_BUDGETS_PER_TENANT = 100
WARNING_PERCENT = Decimal(80)
BUDGET_FIELDS = ["category", "period", "amount", "currency", "rollover", "starts_on"]
BUDGET_EDITABLE = {"category_id", "period", "amount", "currency", "rollover", "starts_on"}
_MONTHS = {Budget.Period.MONTHLY: 1, Budget.Period.QUARTERLY: 3, Budget.Period.YEARLY: 12}
ZERO = Decimal("0")


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


# --- periods ----------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """[first day, last day] of the calendar month, quarter or year containing `day`."""
    step = _MONTHS[Budget.Period(period)]
    first_month = (day.month - 1) // step * step + 1
    start = dt.date(day.year, first_month, 1)
    return start, _add_months(start, step) - dt.timedelta(days=1)


def periods_between(period: str, first: dt.date, later: dt.date) -> int:
    """How many periods start from `first`'s period on and before `later`'s period."""
    step = _MONTHS[Budget.Period(period)]
    first, later = period_bounds(period, first)[0], period_bounds(period, later)[0]
    return max(0, ((later.year - first.year) * 12 + later.month - first.month) // step)


# --- services ---------------------------------------------------------------


def _clean_period(value: Any) -> str:
    if value not in Budget.Period.values:
        raise errors.ValidationError(
            f"{value!r} is not a budget period", field_errors={"period": f"One of {', '.join(Budget.Period.values)}."}
        )
    return value


def _clean_amount(value: Any) -> Decimal:
    amount = money.clean_amount(value)
    if amount <= 0:
        raise errors.ValidationError("A budget's amount is above zero", field_errors={"amount": "Must be above 0."})
    return amount


def _budget_category(*, tenant: Tenant, category_id: Any) -> Category:
    category_uuid = _uuid(category_id)
    category = (
        Category.objects.select_related("parent").filter(tenant=tenant, pk=category_uuid).first() if category_uuid else None
    )
    if category is None:
        raise errors.ValidationError("No such category", field_errors={"category_id": "No such category in this tenant."})
    if category.kind != Category.Kind.EXPENSE:
        raise errors.ValidationError(
            f"Budgets are for spending: {category.name!r} is a {category.kind} category",
            field_errors={"category_id": "Not an expense category."},
        )
    return category


def _taken(category: Category) -> errors.Conflict:
    return errors.Conflict(
        f"{category.name!r} already has a budget; change that one", field_errors={"category_id": "Already budgeted."}
    )


def budget_create(
    *, tenant: Tenant, actor: User, category_id: Any, amount: Decimal | str, today: dt.date,
    period: str = Budget.Period.MONTHLY, currency: str | None = None, rollover: bool = False,
    starts_on: dt.date | None = None,
) -> Budget:
    """One budget per category. `currency` defaults to the tenant's base currency; `starts_on` (moved to the
    first day of its period) to the current period of `today`."""
    period = _clean_period(period)
    budget = Budget(
        tenant=tenant, period=period, amount=_clean_amount(amount), rollover=bool(rollover),
        currency=money.clean_currency(currency or tenant.base_currency),
        starts_on=period_bounds(period, starts_on or today)[0],
    )
    with transaction.atomic():
        budget.category = _budget_category(tenant=tenant, category_id=category_id)
        if Budget.objects.filter(tenant=tenant).count() >= MAX_BUDGETS_PER_TENANT:
            raise errors.Conflict(f"A tenant has at most {MAX_BUDGETS_PER_TENANT} budgets; delete some first")
        if Budget.objects.filter(tenant=tenant, category=budget.category).exists():
            raise _taken(budget.category)
        try:
            with transaction.atomic():
                budget.save(force_insert=True)
        except IntegrityError:
            raise _taken(budget.category) from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="budget.create", instance=budget,
                                    changes=audit_services.created_changes(budget, BUDGET_FIELDS))
    return budget


def _locked(*, tenant: Tenant, budget_id: Any) -> Budget:
    budget_uuid = _uuid(budget_id)
    budget = (
        Budget.objects.select_for_update(of=("self",)).select_related("category", "category__parent")
        .filter(tenant=tenant, pk=budget_uuid).first()
        if budget_uuid else None
    )
    if budget is None:
        raise errors.NotFound("No such budget")
    return budget


def budget_update(*, tenant: Tenant, actor: User, budget_id: Any, changes: dict[str, Any]) -> Budget:
    """Change any of the budget's fields; a new `period` or `starts_on` moves `starts_on` to its period's
    first day. A no-op writes nothing."""
    unknown = sorted(set(changes) - BUDGET_EDITABLE)
    if unknown:
        raise errors.ValidationError(f"Unknown fields: {', '.join(unknown)}", field_errors={f: "Unknown field." for f in unknown})
    with transaction.atomic():
        budget = _locked(tenant=tenant, budget_id=budget_id)
        before = audit_services.snapshot(budget, BUDGET_FIELDS)
        if "category_id" in changes:
            category = _budget_category(tenant=tenant, category_id=changes["category_id"])
            if category.pk != budget.category_id:
                if Budget.objects.filter(tenant=tenant, category=category).exists():
                    raise _taken(category)
                budget.category = category
        if "period" in changes:
            budget.period = _clean_period(changes["period"])
        if "amount" in changes:
            budget.amount = _clean_amount(changes["amount"])
        if "currency" in changes:
            budget.currency = money.clean_currency(changes["currency"])
        if "rollover" in changes:
            if not isinstance(changes["rollover"], bool):
                raise errors.ValidationError("rollover is true or false", field_errors={"rollover": "Not a boolean."})
            budget.rollover = changes["rollover"]
        starts_on = changes.get("starts_on") or budget.starts_on
        if not isinstance(starts_on, dt.date):
            raise errors.ValidationError("starts_on must be a date", field_errors={"starts_on": "Not a date."})
        budget.starts_on = period_bounds(budget.period, starts_on)[0]
        diff = audit_services.diff(before, audit_services.snapshot(budget, BUDGET_FIELDS))
        if not diff:
            return budget
        try:
            with transaction.atomic():
                budget.save(update_fields=[*diff, "updated_at"])
        except IntegrityError:
            raise _taken(budget.category) from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="budget.update", instance=budget, changes=diff)
    return budget


def budget_delete(*, tenant: Tenant, actor: User, budget_id: Any) -> None:
    with transaction.atomic():
        budget = _locked(tenant=tenant, budget_id=budget_id)
        audit_services.audit_record(tenant=tenant, actor=actor, action="budget.delete", instance=budget,
                                    changes=audit_services.deleted_changes(budget, BUDGET_FIELDS))
        Budget.objects.filter(tenant=tenant, pk=budget.pk).delete()


# --- selectors --------------------------------------------------------------


def budget_list(*, tenant: Tenant) -> list[Budget]:
    """Every budget of the tenant (at most MAX_BUDGETS_PER_TENANT), by category name; one query."""
    return list(
        Budget.objects.filter(tenant=tenant).select_related("category", "category__parent")
        .order_by(models.functions.Lower("category__name"), "pk")[:MAX_BUDGETS_PER_TENANT]
    )


def budget_get(*, tenant: Tenant, budget_id: Any) -> Budget:
    budget_uuid = _uuid(budget_id)
    budget = (
        Budget.objects.select_related("category", "category__parent").filter(tenant=tenant, pk=budget_uuid).first()
        if budget_uuid else None
    )
    if budget is None:
        raise errors.NotFound("No such budget")
    return budget


@dataclasses.dataclass(frozen=True)
class BudgetProgress:
    budget: Budget
    period_start: dt.date
    period_end: dt.date
    budgeted: Decimal  # the budget's amount for one period
    carried_over: Decimal  # from past periods (rollover); negative when they overspent
    spent: Decimal  # in the budget's currency, converted where rates allowed
    projected: Decimal  # spending at the end of the period at the pace so far
    unconverted: dict[str, Decimal]  # spending in currencies without a rate, left out of `spent`
    rates: tuple[exchange_rates.RateUsed, ...]

    @property
    def available(self) -> Decimal:
        return self.budgeted + self.carried_over

    @property
    def left(self) -> Decimal:
        return self.available - self.spent

    @property
    def percent(self) -> Decimal | None:
        """Spent as a percentage of available (one decimal); None when nothing is available."""
        if self.available <= 0:
            return None
        return (self.spent * 100 / self.available).quantize(Decimal("0.1"))

    @property
    def status(self) -> str:
        if self.spent > self.available:
            return "over"
        if self.available > 0 and self.spent * 100 >= self.available * WARNING_PERCENT:
            return "warning"
        return "ok"


def _tree(budget: Budget) -> models.Q:
    return models.Q(category_id=budget.category_id) | models.Q(category__parent_id=budget.category_id)


def budget_progress(*, tenant: Tenant, budgets: list[Budget], on: dt.date) -> list[BudgetProgress]:
    """The progress of each budget in its period containing `on`. Two queries at most (spending, rates),
    whatever the number of budgets: one conditional sum per budget and currency in one statement."""
    if not budgets:
        return []
    bounds = {budget.pk: period_bounds(budget.period, on) for budget in budgets}
    sums: dict[str, models.Sum] = {}
    low, high = on, on
    for index, budget in enumerate(budgets):
        start, end = bounds[budget.pk]
        low, high = min(low, start), max(high, end)
        sums[f"now_{index}"] = models.Sum("amount", filter=_tree(budget) & models.Q(booked_on__range=(start, end)))
        if budget.rollover and budget.starts_on < start:
            low = min(low, budget.starts_on)
            sums[f"past_{index}"] = models.Sum(
                "amount", filter=_tree(budget) & models.Q(booked_on__gte=budget.starts_on, booked_on__lt=start)
            )
    wanted = models.Q()
    for budget in budgets:
        wanted |= _tree(budget)
    rows = list(
        transfers.counted(Transaction.objects.filter(tenant=tenant, booked_on__range=(low, high)))
        .filter(wanted).values("account__currency").annotate(**sums).order_by()
    )
    needed = {
        (budget.currency, (row["account__currency"], bounds[budget.pk][1]))
        for budget in budgets for row in rows if row["account__currency"] != budget.currency
    }
    rates_by_base: dict[str, dict] = {}
    for base in {base for base, _ in needed}:
        # one query per base currency; budgets share the tenant's base currency unless set otherwise
        rates_by_base[base] = exchange_rates.rates_for(
            tenant=tenant, base=base, wanted=[pair for b, pair in needed if b == base]
        )

    progress = []
    for index, budget in enumerate(budgets):
        start, end = bounds[budget.pk]
        spent, past, unconverted, used = ZERO, ZERO, {}, []
        for row in rows:
            currency = row["account__currency"]
            now_total = -money.stored(row[f"now_{index}"])
            past_total = -money.stored(row.get(f"past_{index}"))
            if currency == budget.currency:
                spent, past = spent + now_total, past + past_total
                continue
            if not now_total and not past_total:
                continue
            rate = rates_by_base.get(budget.currency, {}).get((currency, end))
            if rate is None:
                unconverted[currency] = now_total
                continue
            used.append(rate)
            spent, past = spent + rate.convert(now_total), past + rate.convert(past_total)
        carried = ZERO
        if budget.rollover and budget.starts_on < start:
            carried = budget.amount * periods_between(budget.period, budget.starts_on, start) - past
        days = (end - start).days + 1
        gone = min(max((on - start).days + 1, 1), days)
        projected = money.stored(spent * days / gone)
        progress.append(BudgetProgress(
            budget=budget, period_start=start, period_end=end, budgeted=budget.amount, carried_over=carried,
            spent=spent, projected=projected, unconverted=unconverted, rates=tuple(used),
        ))
    return progress


def _plain(amount: Decimal) -> str:
    two = amount.quantize(Decimal("0.01"))
    return f"{two:f}" if two == amount else f"{amount:f}".rstrip("0")


@dataclasses.dataclass(frozen=True)
class BudgetAlert:
    level: str  # "over" or "warning"
    progress: BudgetProgress

    @property
    def budget(self) -> Budget:
        return self.progress.budget

    @property
    def message(self) -> str:
        p = self.progress
        name = p.budget.category.name
        if self.level == "over":
            return f"{name}: {_plain(p.spent - p.available)} {p.budget.currency} over budget"
        return f"{name}: {p.percent}% of the budget spent"


def budget_alerts(tenant: Tenant, today: dt.date) -> list[BudgetAlert]:
    """Budgets over (first) or at 80% and more of what is available in their current period, for the
    dashboard and the API. `today` is the caller's day in their time zone. Three queries at most."""
    progress = budget_progress(tenant=tenant, budgets=budget_list(tenant=tenant), on=today)
    alerts = [BudgetAlert(level=p.status, progress=p) for p in progress if p.status in ("over", "warning")]
    return sorted(alerts, key=lambda a: (a.level != "over", -(a.progress.percent or Decimal(10**6)), a.budget.category.name))
