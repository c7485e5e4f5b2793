"""Keyset pagination: opaque cursors over (sort value, id); no OFFSET, no unbounded list."""

from __future__ import annotations

import base64
import json
from typing import Any

from coffer import errors

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, size: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."}) from None
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) for v in values):
        raise errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})
    return values
