"""W_BALANCE_MISMATCH: the running balance column disagrees with the amounts.

For each pair of neighbouring rows, the newer balance must equal the older balance plus the
newer amount. Statements come oldest-first or newest-first; `detect_order` decides from the
rows themselves which neighbour is the older one. When both pairs around a row disagree, that
row's balance is the wrong one and only it is flagged; when one pair alone disagrees, the newer
row of the pair is flagged. Rows without a balance or an amount break the chain silently.
Streaming: at most three rows are held back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from decimal import Decimal

from coffer.imports import issues
from coffer.imports.parsing import rows as row_parsing

TOLERANCE = Decimal("0.005")
OLDEST_FIRST, NEWEST_FIRST = "oldest_first", "newest_first"


def _follows(newer: row_parsing.ParsedRow, older: row_parsing.ParsedRow) -> bool | None:
    if newer.balance is None or older.balance is None or newer.amount is None:
        return None
    return abs(older.balance + newer.amount - newer.balance) < TOLERANCE


def detect_order(rows: list[row_parsing.ParsedRow]) -> str | None:
    """OLDEST_FIRST or NEWEST_FIRST from how balances chain; dates break a tie; None: no balances."""
    forward = backward = 0
    for previous, current in zip(rows, rows[1:]):
        forward += _follows(current, previous) is True
        backward += _follows(previous, current) is True
    if forward == backward == 0:
        if not any(r.balance is not None for r in rows):
            return None
        dated = [r.booked_on for r in rows if r.booked_on is not None]
        return NEWEST_FIRST if len(dated) > 1 and dated[0] > dated[-1] else OLDEST_FIRST
    return NEWEST_FIRST if backward > forward else OLDEST_FIRST


def check(rows: Iterable[row_parsing.ParsedRow], *, order: str | None) -> Iterator[row_parsing.ParsedRow]:
    if order is None:
        yield from rows
        return
    newest_first = order == NEWEST_FIRST
    window: deque[row_parsing.ParsedRow] = deque()
    pending: bool = False  # the pair (window[-2], window[-1]) disagrees and is not yet attributed
    for row in rows:
        window.append(row)
        if len(window) >= 2:
            older, newer = (window[-1], window[-2]) if newest_first else (window[-2], window[-1])
            mismatch = _follows(newer, older) is False
            if pending and mismatch:
                _flag(window[-2], neighbours=(window[-3], window[-1]), newest_first=newest_first)
                mismatch = False  # both pairs are explained by the shared row
            elif pending:
                _flag_newer(window[-3], window[-2], newest_first=newest_first)
            pending = mismatch
        while len(window) > 3:
            yield window.popleft()
    if pending and len(window) >= 2:
        _flag_newer(window[-2], window[-1], newest_first=newest_first)
    yield from window


def _flag_newer(first: row_parsing.ParsedRow, second: row_parsing.ParsedRow, *, newest_first: bool) -> None:
    older, newer = (second, first) if newest_first else (first, second)
    _add(newer, older)


def _flag(row: row_parsing.ParsedRow, *, neighbours: tuple[row_parsing.ParsedRow, row_parsing.ParsedRow],
          newest_first: bool) -> None:
    _add(row, neighbours[1] if newest_first else neighbours[0])


def _add(row: row_parsing.ParsedRow, older: row_parsing.ParsedRow) -> None:
    if any(issue.code == issues.W_BALANCE_MISMATCH for issue in row.issues):
        return
    if row.balance is None or older.balance is None or row.amount is None:
        return
    expected = older.balance + row.amount
    message = (f"The balance {row.balance:,.2f} does not follow from the previous balance "
               f"{older.balance:,.2f} (row {older.number}) and the amount {row.amount:,.2f}: "
               f"expected {expected:,.2f}.")
    if row.balance == older.balance and row.amount:
        message += f" The balance did not move: this row may repeat row {older.number}."
    row.issues.append(issues.warning(row=row.number, column=row.columns.get("balance"),
                                     code=issues.W_BALANCE_MISMATCH, message=message, value=str(row.balance)))
