"""Transfers on the wire: two transactions of the tenant, out of one account and into another."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from coffer.api.schemas.common import InSchema, MoneyOut, OutSchema


class TransferSide(OutSchema):
    id: uuid.UUID
    account_id: uuid.UUID
    booked_on: dt.date
    amount: MoneyOut
    currency: str
    description: str
    counterparty: str


class TransferOut(OutSchema):
    outflow: TransferSide = Field(description="The side with the negative amount")
    inflow: TransferSide = Field(description="The side with the positive amount")


class TransferIn(InSchema):
    """Two transactions of different accounts with opposite signs; within one currency, opposite amounts."""

    transaction_id: uuid.UUID
    pair_id: uuid.UUID


class DetectIn(InSchema):
    since: dt.date | None = Field(None, description="Only pairs with a side booked on or after this day")


class DetectOut(BaseModel):
    linked: int = Field(description="How many pairs were linked")
