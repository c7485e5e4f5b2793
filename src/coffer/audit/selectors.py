from __future__ import annotations

import datetime as dt
import uuid

from coffer import errors, keyset
from coffer.audit.models import AuditEntry

MAX_PAGE_SIZE = 100


def audit_entries(*, tenant, object_type: str | None = None, object_id: str | None = None, action: str | None = None,
                  actor_id: uuid.UUID | None = None):
    """Newest first; callers paginate (keyset on created_at, id)."""
    qs = AuditEntry.objects.filter(tenant=tenant).select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action=action)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    return qs.order_by("-created_at", "-id")


def _after_key(after: list[str]) -> tuple[dt.datetime, uuid.UUID]:
    bad = errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})
    try:
        created_at, last_id = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
    except (ValueError, IndexError, TypeError):
        raise bad from None
    if created_at.tzinfo is None:
        raise bad
    return created_at, last_id


def audit_page(*, tenant, limit: int, after: list[str] | None = None, object_type: str | None = None,
               object_id: str | None = None, action: str | None = None, actor_id: uuid.UUID | None = None,
               created_from: dt.datetime | None = None,
               created_before: dt.datetime | None = None) -> tuple[list[AuditEntry], list[str] | None]:
    """One page of the tenant's audit trail, newest first, with the filters applied
    (`created_from` inclusive, `created_before` exclusive)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."}
        )
    qs = audit_entries(tenant=tenant, object_type=object_type, object_id=object_id, action=action, actor_id=actor_id)
    if created_from is not None:
        qs = qs.filter(created_at__gte=created_from)
    if created_before is not None:
        qs = qs.filter(created_at__lt=created_before)
    if after is not None:
        created_at, last_id = _after_key(after)
        qs = qs.filter(keyset.after_cursor("created_at", created_at, last_id))
    rows = list(qs[: limit + 1])
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], [last.created_at.isoformat(), str(last.id)]
    return rows, None
