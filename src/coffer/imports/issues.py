"""Issue records: one problem on one row (and usually one cell), as a person should read it.

Row numbers and column letters are the ones the spreadsheet shows (CSV: the line where the
record starts). Codes are stable identifiers; `E_` codes are errors (the row cannot be
imported as it is), `W_` codes are warnings (the row can be imported once accepted).

    E_DATE_INVALID        the booking date cannot be read as a date
    E_AMOUNT_INVALID      the amount (or debit/credit) cannot be read as a number, or is too large
    E_REQUIRED_MISSING    the booking date or the amount is blank
    E_CURRENCY_MISMATCH   the row's currency is not the account's
    E_CURRENCY_INVALID    the currency cell is not an ISO 4217 code
    E_CELL_ERROR          a cell the transaction needs (date, amount, debit, credit, direction,
                          description, reference, currency) holds a spreadsheet error such as
                          #REF!, #DIV/0!, #N/A or #VALUE! (the value is the error as shown)
    W_CELL_ERROR          an optional cell (value date, balance, counterparty, category) holds a
                          spreadsheet error; that field is left empty
    W_DUPLICATE_IN_FILE   the line repeats an earlier line of the file exactly
    W_DUPLICATE_EXISTING  the transaction is already in the account
    W_BALANCE_MISMATCH    the running balance column disagrees with the amounts
    W_FUTURE_DATE         the booking date is in the future
    W_OUTLIER_AMOUNT      the amount is far outside the file's usual range
    W_VALUE_DATE_INVALID  the value date cannot be read (left empty)
    W_BALANCE_INVALID     the balance cannot be read as a number (not checked on that row)
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Severity = Literal["error", "warning"]

E_DATE_INVALID = "E_DATE_INVALID"
E_AMOUNT_INVALID = "E_AMOUNT_INVALID"
E_REQUIRED_MISSING = "E_REQUIRED_MISSING"
E_CURRENCY_MISMATCH = "E_CURRENCY_MISMATCH"
E_CURRENCY_INVALID = "E_CURRENCY_INVALID"
E_CELL_ERROR = "E_CELL_ERROR"
W_CELL_ERROR = "W_CELL_ERROR"
W_DUPLICATE_IN_FILE = "W_DUPLICATE_IN_FILE"
W_DUPLICATE_EXISTING = "W_DUPLICATE_EXISTING"
W_BALANCE_MISMATCH = "W_BALANCE_MISMATCH"
W_FUTURE_DATE = "W_FUTURE_DATE"
W_OUTLIER_AMOUNT = "W_OUTLIER_AMOUNT"
W_VALUE_DATE_INVALID = "W_VALUE_DATE_INVALID"
W_BALANCE_INVALID = "W_BALANCE_INVALID"

CODES = (
    E_DATE_INVALID, E_AMOUNT_INVALID, E_REQUIRED_MISSING, E_CURRENCY_MISMATCH, E_CURRENCY_INVALID, E_CELL_ERROR,
    W_CELL_ERROR,
    W_DUPLICATE_IN_FILE, W_DUPLICATE_EXISTING, W_BALANCE_MISMATCH, W_FUTURE_DATE, W_OUTLIER_AMOUNT,
    W_VALUE_DATE_INVALID, W_BALANCE_INVALID,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Issue:
    row: int | None
    column: str | None
    code: str
    severity: Severity
    message: str
    value: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def error(*, row: int | None, column: str | None, code: str, message: str, value: object = None) -> Issue:
    return Issue(row=row, column=column, code=code, severity="error", message=message, value=_text(value))


def warning(*, row: int | None, column: str | None, code: str, message: str, value: object = None) -> Issue:
    return Issue(row=row, column=column, code=code, severity="warning", message=message, value=_text(value))


def column_letter(index0: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, as spreadsheets name columns."""
    if index0 < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    n = index0 + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letter: str) -> int:
    """A -> 0, AA -> 26: the inverse of column_letter."""
    text = letter.strip().upper()
    if not text.isalpha() or not text.isascii():
        raise ValueError(f"{letter!r} is not a column letter")
    n = 0
    for char in text:
        n = n * 26 + (ord(char) - 64)
    return n - 1


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
