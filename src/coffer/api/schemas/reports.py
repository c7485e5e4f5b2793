"""Reports on the wire: per currency, optionally converted into the tenant's base currency."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel

from coffer.api.schemas.budgets import BudgetOut
from coffer.api.schemas.common import MoneyOut
from coffer.api.schemas.exchange_rates import ConversionOut


class FlowLineOut(BaseModel):
    start: dt.date
    end: dt.date
    income: MoneyOut
    expenses: MoneyOut
    net: MoneyOut


class CurrencyFlow(BaseModel):
    currency: str
    months: list[FlowLineOut]
    total: FlowLineOut


class CashflowOut(BaseModel):
    date_from: dt.date
    date_to: dt.date
    currencies: list[CurrencyFlow]
    converted: CurrencyFlow | None
    conversion: ConversionOut | None


class CategoryLineOut(BaseModel):
    category_id: uuid.UUID | None
    name: str
    group_id: uuid.UUID | None
    group_name: str
    amount: MoneyOut


class CategoryTotalsOut(BaseModel):
    currency: str
    income: list[CategoryLineOut]
    spending: list[CategoryLineOut]
    income_groups: list[CategoryLineOut]
    spending_groups: list[CategoryLineOut]
    total_income: MoneyOut
    total_spending: MoneyOut


class CategoryReportOut(BaseModel):
    date_from: dt.date
    date_to: dt.date
    currencies: list[CategoryTotalsOut]
    converted: CategoryTotalsOut | None
    conversion: ConversionOut | None


class NetWorthPointOut(BaseModel):
    day: dt.date
    balance: MoneyOut


class CurrencyNetWorth(BaseModel):
    currency: str
    points: list[NetWorthPointOut]


class NetWorthOut(BaseModel):
    date_from: dt.date
    date_to: dt.date
    currencies: list[CurrencyNetWorth]
    converted: CurrencyNetWorth | None
    conversion: ConversionOut | None


class BudgetReportOut(BaseModel):
    on: dt.date
    items: list[BudgetOut]
