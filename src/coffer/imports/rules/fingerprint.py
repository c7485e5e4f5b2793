"""Transaction identity for duplicate detection (the SQL half uses these values).

`fingerprint(...)` hashes account, booking date, amount (4 places), normalised description
(case-folded, runs of whitespace made one space, trimmed; digits are kept because card
numbers and references tell transactions apart) and the bank reference (trimmed).

Identical rows that genuinely repeat (two coffees of the same price on one day) share a
fingerprint; `with_occurrence` numbers them in statement order (1, 2, ...), and the pair
(fingerprint, occurrence) is what must be unique per account. A re-import of the same
statement yields the same pairs, so nothing is added twice, while the second coffee is
occurrence 2 and is kept. A running balance or a reference, when the file has one, already
makes such rows differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

_SPACES = re.compile(r"\s+")


def normalise_description(text: str) -> str:
    return _SPACES.sub(" ", (text or "").strip().casefold())


def fingerprint(account_id: Any, booked_on: dt.date, amount: Decimal, description: str, reference: str) -> str:
    key = "\x1f".join([str(account_id), booked_on.isoformat(), f"{amount:.4f}",
                       normalise_description(description), (reference or "").strip()])
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def with_occurrence(fingerprints: Iterable[str]) -> Iterator[tuple[str, int]]:
    """(fingerprint, n) where n counts earlier rows of the file with the same fingerprint, from 1.

    Holds one counter per distinct fingerprint (the SQL version uses row_number() over the
    staging table partitioned by fingerprint, ordered by row number)."""
    seen: dict[str, int] = {}
    for value in fingerprints:
        seen[value] = seen.get(value, 0) + 1
        yield value, seen[value]
