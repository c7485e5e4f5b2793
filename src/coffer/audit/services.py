"""Writing the audit trail. Every service that changes state calls `audit_record` inside its transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models

from coffer.audit.models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audit-ready values of `fields` on `instance` (foreign keys by id)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = field.attname if field.is_relation else name
        values[name] = _plain(getattr(instance, attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}


def audit_record(
    *, tenant, actor, action: str, instance: models.Model | None = None, object_type: str = "",
    object_id: str = "", changes: dict[str, list[Any]] | None = None,
) -> AuditEntry:
    if instance is not None:
        object_type = object_type or instance._meta.model_name
        object_id = object_id or str(instance.pk)
    return AuditEntry.objects.create(
        tenant=tenant,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes={key: [_plain(v) for v in pair] for key, pair in (changes or {}).items()},
    )


def created_changes(instance: models.Model, fields: list[str]) -> dict[str, list[Any]]:
    return {key: [None, value] for key, value in snapshot(instance, fields).items()}


def deleted_changes(instance: models.Model, fields: list[str]) -> dict[str, list[Any]]:
    return {key: [value, None] for key, value in snapshot(instance, fields).items()}
