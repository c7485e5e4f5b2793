"""Rules over the stream of ParsedRows: per-row checks and sequence checks, all streaming.

    rows = rules.apply(parsing.parse_rows(...), account_currency="EUR", today=date.today())

The first `sample_size` rows are held back once, to decide the statement order (for the
running balance) and the outlier threshold; after that rows flow through with at most
three held back by the balance check. Duplicates are found later, in SQL, from
`fingerprint.fingerprint` and `fingerprint.with_occurrence`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import chain, islice

from coffer.imports.parsing import rows as row_parsing
from coffer.imports.rules import balance, currency, fingerprint, future, outliers

SAMPLE_SIZE = 5000

__all__ = ["apply", "balance", "currency", "fingerprint", "future", "outliers"]


def apply(rows: Iterable[row_parsing.ParsedRow], *, account_currency: str | None = None,
          today: dt.date | None = None, sample_size: int = SAMPLE_SIZE) -> Iterator[row_parsing.ParsedRow]:
    today = today or dt.date.today()
    iterator = iter(rows)
    head = list(islice(iterator, sample_size))
    order = balance.detect_order(head)
    threshold = outliers.Threshold.from_amounts(r.amount for r in head if r.amount is not None)

    def per_row(stream: Iterable[row_parsing.ParsedRow]) -> Iterator[row_parsing.ParsedRow]:
        for row in stream:
            check_row(row, account_currency=account_currency, today=today)
            outliers.check(row, threshold=threshold)
            yield row

    return balance.check(per_row(chain(head, iterator)), order=order)


def check_row(row: row_parsing.ParsedRow, *, account_currency: str | None = None,
              today: dt.date | None = None) -> row_parsing.ParsedRow:
    """The rules that need only the row itself (an edited row is checked with these alone)."""
    future.check(row, today=today or dt.date.today())
    currency.check(row, account_currency=account_currency)
    return row
