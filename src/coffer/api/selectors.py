"""Reading API credentials: a person's personal access tokens, newest first, keyset-paginated."""

from __future__ import annotations

import datetime as dt
import uuid

from coffer import errors, keyset
from coffer.api.models import ApiToken
from coffer.tenancy.models import User

MAX_PAGE_SIZE = 100

_BAD_CURSOR = errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})


def _after_key(after: list[str]) -> tuple[dt.datetime, uuid.UUID]:
    try:
        created_at, last_id = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
    except (ValueError, IndexError):
        raise _BAD_CURSOR from None
    if created_at.tzinfo is None:
        raise _BAD_CURSOR
    return created_at, last_id


def pat_page(*, user: User, limit: int, after: list[str] | None = None) -> tuple[list[ApiToken], list[str] | None]:
    """The user's tokens that are not revoked (expired ones included, marked by expires_at)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."}
        )
    queryset = ApiToken.objects.filter(user=user, revoked_at__isnull=True).select_related("tenant")
    if after is not None:
        created_at, last_id = _after_key(after)
        queryset = queryset.filter(keyset.after_cursor("created_at", created_at, last_id))
    rows = list(queryset.order_by("-created_at", "-id")[: limit + 1])
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], [last.created_at.isoformat(), str(last.id)]
    return rows, None
