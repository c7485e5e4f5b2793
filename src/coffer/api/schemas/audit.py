"""The audit trail on the wire: read-only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from coffer.api.schemas.common import OutSchema


class AuditActorOut(OutSchema):
    id: uuid.UUID
    email: str
    name: str


class AuditEntryOut(OutSchema):
    id: uuid.UUID
    created_at: dt.datetime
    actor: AuditActorOut | None = Field(description="Who made the change; null for the system or a deleted person")
    action: str = Field(examples=["membership.update"])
    object_type: str = Field(examples=["membership"])
    object_id: str
    changes: dict[str, list[Any]] = Field(description="Changed fields: field -> [before, after]")
