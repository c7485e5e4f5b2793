"""Budgets on the wire, each with its progress in the period containing the day asked about."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from coffer.api.schemas.common import Currency, InSchema, MoneyIn, MoneyOut
from coffer.api.schemas.exchange_rates import RateUsedOut

BudgetPeriod = Literal["monthly", "quarterly", "yearly"]
BudgetStatus = Literal["ok", "warning", "over"]


class BudgetIn(InSchema):
    category_id: uuid.UUID = Field(description="An expense category; a top-level one covers its subcategories")
    amount: MoneyIn = Field(description="Per period, above zero")
    period: BudgetPeriod = "monthly"
    currency: Currency | None = Field(None, description="Defaults to the tenant's base currency")
    rollover: StrictBool = Field(False, description="Carry what is left (or overspent) into the next period")
    starts_on: dt.date | None = Field(
        None, description="First period (moved to its first day); defaults to the current period"
    )


class BudgetPatch(InSchema):
    category_id: uuid.UUID = None
    amount: MoneyIn = None
    period: BudgetPeriod = None
    currency: Currency = None
    rollover: StrictBool = None
    starts_on: dt.date = None


class BudgetProgressOut(BaseModel):
    period_start: dt.date
    period_end: dt.date
    budgeted: MoneyOut
    carried_over: MoneyOut = Field(description="From past periods with rollover; negative when they overspent")
    available: MoneyOut
    spent: MoneyOut = Field(description="Expenses in the category tree, refunds taken off, transfers left out")
    left: MoneyOut
    percent: str | None = Field(description='Spent as a percentage of available, e.g. "82.5"; null when none is')
    projected: MoneyOut = Field(description="Spending at the end of the period at the pace so far")
    status: BudgetStatus = Field(description="over: spent above available; warning: from 80%")
    unconverted: dict[str, MoneyOut] = Field(
        description="Spending in other currencies without an exchange rate, left out of `spent`"
    )
    rates: list[RateUsedOut] = Field(description="Exchange rates used for spending in other currencies")


class BudgetOut(BaseModel):
    id: uuid.UUID
    category_id: uuid.UUID
    category_name: str
    period: BudgetPeriod
    amount: MoneyOut
    currency: str
    rollover: bool
    starts_on: dt.date
    created_at: dt.datetime
    updated_at: dt.datetime
    progress: BudgetProgressOut


class BudgetList(BaseModel):
    """Every budget of the tenant (at most 100), by category name, with progress on `on`."""

    on: dt.date
    items: list[BudgetOut]


class BudgetAlertOut(BaseModel):
    level: Literal["warning", "over"]
    message: str
    budget: BudgetOut


class BudgetAlerts(BaseModel):
    """Budgets over (first) or at 80% and more in their period containing `on`."""

    on: dt.date
    items: list[BudgetAlertOut]


def budget_out(progress) -> dict:
    """A budget with its progress (ledger.budgets.BudgetProgress) as the API sends it."""
    budget = progress.budget
    return BudgetOut(
        id=budget.pk, category_id=budget.category_id, category_name=budget.category.name, period=budget.period,
        amount=budget.amount, currency=budget.currency, rollover=budget.rollover, starts_on=budget.starts_on,
        created_at=budget.created_at, updated_at=budget.updated_at,
        progress=BudgetProgressOut(
            period_start=progress.period_start, period_end=progress.period_end, budgeted=progress.budgeted,
            carried_over=progress.carried_over, available=progress.available, spent=progress.spent,
            left=progress.left, percent=None if progress.percent is None else str(progress.percent),
            projected=progress.projected, status=progress.status, unconverted=progress.unconverted,
            rates=[RateUsedOut.model_validate(rate) for rate in progress.rates],
        ),
    ).model_dump(mode="json")
