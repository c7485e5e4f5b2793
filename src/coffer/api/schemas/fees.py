"""Expected recurring fees, the fee check and the fee report on the wire."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field, StrictInt

from coffer.api.schemas.common import InSchema, MoneyIn, MoneyOut

Frequency = Literal["monthly", "quarterly", "yearly"]


class ExpectedFeeIn(InSchema):
    account_id: uuid.UUID
    name: str = Field(max_length=120, description="Also matched in fee transactions' descriptions")
    amount: MoneyIn = Field(description="What is charged per period, above zero")
    frequency: Frequency = "monthly"
    category_id: uuid.UUID | None = Field(None, description='Default: any category of "Fees & charges"')
    day_tolerance: StrictInt = Field(0, description="Days before or after a period that still count for it (0-31)")


class ExpectedFeePatch(InSchema):
    name: str = Field(None, max_length=120)
    amount: MoneyIn = None
    frequency: Frequency = None
    category_id: uuid.UUID | None = None
    day_tolerance: StrictInt = None


class ExpectedFeeOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    currency: str
    name: str
    category_id: uuid.UUID | None
    amount: MoneyOut
    frequency: Frequency
    day_tolerance: int


class ExpectedFeeList(BaseModel):
    items: list[ExpectedFeeOut]


class FeeCheckItem(BaseModel):
    fee: ExpectedFeeOut
    period_start: dt.date
    period_end: dt.date
    expected: MoneyOut
    charged: MoneyOut
    count: int
    status: Literal["ok", "missing", "differs"]


class FeeCheck(BaseModel):
    date_from: dt.date
    date_to: dt.date
    items: list[FeeCheckItem]


class FeeReportLine(BaseModel):
    account_id: uuid.UUID
    account_name: str
    currency: str
    month: dt.date
    total: MoneyOut
    count: int


class FeeReport(BaseModel):
    date_from: dt.date
    date_to: dt.date
    items: list[FeeReportLine]


def fee_out(fee) -> dict:
    return {
        "id": fee.pk, "account_id": fee.account_id, "account_name": fee.account.name, "currency": fee.account.currency,
        "name": fee.name, "category_id": fee.category_id, "amount": fee.amount, "frequency": fee.frequency,
        "day_tolerance": fee.day_tolerance,
    }
