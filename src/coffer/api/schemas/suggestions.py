"""Category suggestions for uncategorized transactions on the wire."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from coffer.api.schemas.common import InSchema
from coffer.api.schemas.ledger import TransactionOut


class SuggestionOut(BaseModel):
    category_id: uuid.UUID
    category_name: str = Field(description='The category, under its parent: "Food / Groceries"')
    confidence: float = Field(ge=0, le=1, description="How sure: 0 to 1")
    basis: Literal["counterparty", "description", "similar_counterparty", "words"] = Field(
        description="What it was learned from: the same counterparty or description, a similar counterparty, "
                    "or the words of the description"
    )
    seen: int = Field(description="How many categorized transactions back it")


class SuggestedTransaction(BaseModel):
    transaction: TransactionOut
    suggestion: SuggestionOut | None = Field(description="Null when the tenant's history suggests nothing")


class SuggestionAccept(InSchema):
    category_id: uuid.UUID | None = Field(
        None, description="The suggested category (as listed); without it, the current suggestion is accepted"
    )
