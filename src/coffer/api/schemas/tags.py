"""Tags on the wire."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from coffer.api.schemas.common import InSchema, OutSchema


class TagIn(InSchema):
    name: str = Field(min_length=1, max_length=50)


class TagPatch(InSchema):
    name: str = Field(None, min_length=1, max_length=50)


class TagOut(OutSchema):
    id: uuid.UUID
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime
