"""Accounts and transactions on the wire. Amounts are decimal strings both ways.

Patch schemas: every field defaults to None, and Pydantic does not validate defaults,
so an absent field stays unset (`exclude_unset`) while an explicit `null` for a field
that cannot be empty is refused like any other wrong type.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import Field, StrictBool

from coffer.api.schemas.common import Currency, InSchema, MoneyIn, MoneyOut, OutSchema

AccountType = Literal["checking", "savings", "credit_card", "cash", "loan"]
TransactionSort = Literal["booked_on", "-booked_on", "amount", "-amount"]


class AccountIn(InSchema):
    name: str = Field(min_length=1, max_length=120)
    type: AccountType = "checking"
    currency: Currency
    opening_balance: MoneyIn = Decimal("0")
    institution: str = Field("", max_length=120)
    account_number: str = Field("", max_length=64)


class AccountPatch(InSchema):
    name: str = Field(None, min_length=1, max_length=120)
    type: AccountType = None
    currency: Currency = None
    opening_balance: MoneyIn = None
    institution: str = Field(None, max_length=120)
    account_number: str = Field(None, max_length=64)
    archived: StrictBool = None


class AccountOut(OutSchema):
    id: uuid.UUID
    name: str
    type: AccountType
    currency: str
    opening_balance: MoneyOut
    balance: MoneyOut
    institution: str
    account_number: str
    archived: bool
    created_at: dt.datetime


class TransactionIn(InSchema):
    account_id: uuid.UUID
    booked_on: dt.date
    value_on: dt.date | None = None
    amount: MoneyIn
    description: str = Field("", max_length=500)
    counterparty: str = Field("", max_length=200)
    reference: str = Field("", max_length=200)
    note: str = Field("", max_length=10_000)


class TransactionPatch(InSchema):
    account_id: uuid.UUID = None
    booked_on: dt.date = None
    value_on: dt.date | None = None
    amount: MoneyIn = None
    description: str = Field(None, max_length=500)
    counterparty: str = Field(None, max_length=200)
    reference: str = Field(None, max_length=200)
    note: str = Field(None, max_length=10_000)


class TransactionOut(OutSchema):
    id: uuid.UUID
    account_id: uuid.UUID
    booked_on: dt.date
    value_on: dt.date | None
    amount: MoneyOut
    currency: str
    description: str
    counterparty: str
    reference: str
    note: str
    created_at: dt.datetime
    updated_at: dt.datetime
