"""Categories on the wire: two levels, listed as a tree."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, StrictBool

from coffer.api.schemas.common import InSchema, OutSchema

CategoryKind = Literal["income", "expense", "transfer"]
COLOR_PATTERN = r"^(#[0-9a-fA-F]{6})?$"


class CategoryIn(InSchema):
    """A top-level category needs `kind`; a subcategory (`parent_id` of a top-level category) takes its parent's."""

    name: str = Field(min_length=1, max_length=80)
    kind: CategoryKind | None = None
    parent_id: uuid.UUID | None = None
    color: str = Field("", pattern=COLOR_PATTERN, description='"#rrggbb" or empty')


class CategoryPatch(InSchema):
    """`parent_id: null` makes a subcategory top-level; `color: ""` clears the color."""

    name: str = Field(None, min_length=1, max_length=80)
    kind: CategoryKind = None
    parent_id: uuid.UUID | None = None
    color: str = Field(None, pattern=COLOR_PATTERN, description='"#rrggbb" or empty')
    archived: StrictBool = None


class CategoryOut(OutSchema):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    kind: CategoryKind
    color: str
    archived: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class CategoryNode(CategoryOut):
    # Read from the selector's `subcategories` (the model's `children` is its related manager).
    children: list[CategoryOut] = Field(validation_alias=AliasChoices("subcategories", "children"))


class CategoryTree(BaseModel):
    """Every category of the tenant (at most 500), top-level ones by name with their subcategories."""

    items: list[CategoryNode]
