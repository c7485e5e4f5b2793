"""Keyset "load more" for web lists: the cursor travels in the query string next to the filters."""

from __future__ import annotations

from django.http import QueryDict

from coffer import errors
from coffer.api import pagination

PAGE_SIZE = 50


class BadCursor(Exception):
    pass


def after(request, *, size: int) -> list[str] | None:
    cursor = request.GET.get("cursor")
    if not cursor:
        return None
    try:
        return pagination.decode_cursor(cursor[:2000], size=size)
    except errors.ValidationError:
        raise BadCursor from None


def more_url(path: str, query: QueryDict, next_key: list[str] | None) -> str | None:
    """The same list with the same filters, from after the last row shown; None on the last page."""
    if next_key is None:
        return None
    params = query.copy()
    params["cursor"] = pagination.encode_cursor(next_key)
    return f"{path}?{params.urlencode()}"
