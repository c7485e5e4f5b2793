"""Categorization rules on the wire: conditions (all must hold) and actions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from coffer.api.schemas.common import InSchema, MoneyIn, MoneyOut
from coffer.api.schemas.ledger import TagName

TextOperator = Literal["contains", "equals", "starts_with", "regex"]
Sign = Literal["negative", "positive"]


class TextCondition(InSchema):
    """Case-insensitive. `regex`: a safe dialect (see the rules endpoints); other operators compare trimmed text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)  # a regex keeps its spaces

    operator: TextOperator
    value: str = Field(min_length=1, max_length=200)


class AmountCondition(InSchema):
    """`equals`, or a range (`min`, `max`, each inclusive, either may be left out), and/or a `sign`.
    Amounts are signed: money out is negative."""

    equals: MoneyIn | None = None
    min: MoneyIn | None = None
    max: MoneyIn | None = None
    sign: Sign | None = Field(None, description="negative: money out; positive: money in")


class RuleConditions(InSchema):
    """Every condition given must hold; at least one is required."""

    description: TextCondition | None = None
    counterparty: TextCondition | None = None
    reference: TextCondition | None = None
    amount: AmountCondition | None = None
    account_id: uuid.UUID | None = Field(None, description="Only this account's transactions")
    booked_from: dt.date | None = Field(None, description="Booked on or after this day")
    booked_to: dt.date | None = Field(None, description="Booked on or before this day")


class RuleActions(InSchema):
    """At least one is required."""

    category_id: uuid.UUID | None = Field(None, description="Set this category (never over a category set by hand)")
    tags: list[TagName] = Field(default_factory=list, max_length=5, description="Add these existing tags (names)")
    counterparty: str | None = Field(None, max_length=200, description="Replace the counterparty with this")
    note: str | None = Field(None, max_length=1000, description="Fill an empty note with this")


class CategoryRuleIn(InSchema):
    name: str = Field(min_length=1, max_length=120)
    enabled: StrictBool = True
    conditions: RuleConditions
    actions: RuleActions


class CategoryRulePatch(InSchema):
    """`conditions` and `actions` each replace the rule's as a whole when sent."""

    name: str = Field(None, min_length=1, max_length=120)
    enabled: StrictBool = None
    conditions: RuleConditions = None
    actions: RuleActions = None


class TextConditionOut(BaseModel):
    operator: TextOperator
    value: str


class AmountConditionOut(BaseModel):
    equals: MoneyOut | None
    min: MoneyOut | None
    max: MoneyOut | None
    sign: Sign | None


class RuleConditionsOut(BaseModel):
    description: TextConditionOut | None
    counterparty: TextConditionOut | None
    reference: TextConditionOut | None
    amount: AmountConditionOut | None
    account_id: uuid.UUID | None
    booked_from: dt.date | None
    booked_to: dt.date | None


class RuleActionsOut(BaseModel):
    category_id: uuid.UUID | None
    tags: list[str]
    counterparty: str | None
    note: str | None


class CategoryRuleOut(BaseModel):
    id: uuid.UUID
    name: str
    position: int = Field(description="Rules run in this order, lowest first")
    enabled: bool
    conditions: RuleConditionsOut
    actions: RuleActionsOut
    created_at: dt.datetime
    updated_at: dt.datetime


class CategoryRuleList(BaseModel):
    """Every rule of the tenant (at most 200) in the order they run."""

    items: list[CategoryRuleOut]


class RuleOrder(InSchema):
    rule_ids: list[uuid.UUID] = Field(max_length=200, description="Every rule of the tenant, each once, in the new order")


class RuleScope(InSchema):
    """Which transactions to apply the rules to; all of the tenant's when empty."""

    account_id: uuid.UUID | None = None
    booked_from: dt.date | None = None
    booked_to: dt.date | None = None


class RuleApplied(BaseModel):
    changed: int = Field(description="How many transactions changed")


class RulePreviewItem(BaseModel):
    """A transaction the rules would change. `new_*` fields are null where that field would not change."""

    transaction_id: uuid.UUID
    account_id: uuid.UUID
    booked_on: dt.date
    amount: MoneyOut
    currency: str
    description: str
    counterparty: str
    category_id: uuid.UUID | None
    new_category_id: uuid.UUID | None
    new_counterparty: str | None
    new_note: str | None
    tags_added: list[str]
    rule_ids: list[uuid.UUID] = Field(description="The enabled rules that match it, in order")


class RulePreview(BaseModel):
    count: int = Field(description="How many transactions applying the rules now would change")
    sample: list[RulePreviewItem] = Field(description="The newest of them (at most `sample`)")
