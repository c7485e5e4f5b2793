"""Keyset pagination: the condition "rows after this cursor" in a form an index can seek to."""

from __future__ import annotations

from typing import Any

from django.db import models


def after_cursor(field: str, value: Any, last_id: Any, *, descending: bool = True, id_field: str = "id") -> models.Q:
    """Rows strictly after (value, last_id) in (field, id) order, both descending or both ascending.

    `field < v OR (field = v AND id < last)` alone is a filter PostgreSQL applies to every row it reads
    from the (tenant, field) index, starting at the top: a page deep in a long list read and dropped all
    the rows before it (75% down 1M transactions: 286 ms instead of 15; benchmarks/list_latency.py).
    The redundant `field <= v` is an index condition, so the scan starts at the cursor."""
    op = "lt" if descending else "gt"
    return models.Q(**{f"{field}__{op}e": value}) & (
        models.Q(**{f"{field}__{op}": value}) | models.Q(**{field: value, f"{id_field}__{op}": last_id})
    )
