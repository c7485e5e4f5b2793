"""Accounts and transactions on the wire. Amounts are decimal strings both ways.

Patch schemas: every field defaults to None, and Pydantic does not validate defaults,
so an absent field stays unset (`exclude_unset`) while an explicit `null` for a field
that cannot be empty is refused like any other wrong type.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints, field_validator

from coffer.api.schemas.common import Currency, InSchema, MoneyIn, MoneyOut, OutSchema

AccountType = Literal["checking", "savings", "credit_card", "cash", "loan"]
TransactionSort = Literal["booked_on", "-booked_on", "amount", "-amount"]
CategorySource = Literal["", "manual", "rule", "import"]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
_TAGS_DOC = "Names of the tenant's existing tags (case-insensitive); the list replaces the transaction's tags"


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
    category_id: uuid.UUID | None = Field(None, description="A category of the tenant; null for uncategorized")
    tags: list[TagName] = Field(default_factory=list, max_length=20, description=_TAGS_DOC)


class TransactionPatch(InSchema):
    account_id: uuid.UUID = None
    booked_on: dt.date = None
    value_on: dt.date | None = None
    amount: MoneyIn = None
    description: str = Field(None, max_length=500)
    counterparty: str = Field(None, max_length=200)
    reference: str = Field(None, max_length=200)
    note: str = Field(None, max_length=10_000)
    category_id: uuid.UUID | None = Field(None, description="Set by hand: category_source becomes 'manual'; null uncategorizes")
    tags: list[TagName] = Field(None, max_length=20, description=_TAGS_DOC)


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
    category_id: uuid.UUID | None
    category_source: CategorySource = Field(description="Who set the category: manual, rule, import, or empty")
    tags: list[str] = Field(description="Tag names, alphabetical")
    created_at: dt.datetime
    updated_at: dt.datetime

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: Any) -> Any:
        if hasattr(value, "all"):  # the model's related manager (prefetched by the selectors)
            return sorted((tag.name for tag in value.all()), key=str.casefold)
        return value
