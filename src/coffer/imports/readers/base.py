"""What every reader yields: sheets with their sizes, and rows of typed cells, lazily."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Protocol, Union

from coffer.imports import errors
from coffer.imports import limits as import_limits

# Excel's error values, and LibreOffice's "Err:502" family as it shows them.
_ERROR_LITERALS = re.compile(r"^(?:#(?:REF!|DIV/0!|VALUE!|N/A|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)|Err:[0-9]{3})$")


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorCell:
    """A spreadsheet error value such as #REF! or #DIV/0! (shown as the spreadsheet shows it)."""

    code: str

    def __str__(self) -> str:
        return self.code


Cell = Union[str, int, float, Decimal, bool, dt.date, dt.datetime, dt.time, dt.timedelta, ErrorCell, None]


@dataclasses.dataclass(slots=True)
class RawRow:
    """One row as read: `number` is the row number the spreadsheet shows (CSV: the line the record
    starts on); `cells[0]` is column A. Empty cells are None."""

    number: int
    cells: list[Cell]

    def is_blank(self) -> bool:
        return all(cell is None for cell in self.cells)


@dataclasses.dataclass(frozen=True, slots=True)
class SheetInfo:
    name: str | None  # None for CSV, which has one unnamed sheet
    rows: int
    columns: int
    visible: bool = True


class Workbook(Protocol):
    format: str

    @property
    def sheets(self) -> list[SheetInfo]: ...

    def iter_rows(self, sheet: str | None = None) -> Iterator[RawRow]: ...

    def close(self) -> None: ...


def text_cell(value: str, *, limits: import_limits.ImportLimits, row: int, column: int) -> Cell:
    """Normalise one text cell: blank -> None, '#REF!' -> ErrorCell, too long -> LimitExceeded."""
    if len(value) > limits.max_cell_chars:
        from coffer.imports import issues

        raise errors.LimitExceeded(
            f"Cell {issues.column_letter(column)}{row} holds {len(value):,} characters; at most "
            f"{limits.max_cell_chars:,} are allowed in one cell",
            limit="max_cell_chars", value=len(value), maximum=limits.max_cell_chars,
        )
    stripped = value.strip()
    if not stripped:
        return None
    if stripped[0] in ("#", "E") and _ERROR_LITERALS.match(stripped):
        return ErrorCell(stripped)
    return value


def error_literal(value: str) -> ErrorCell | None:
    """'#REF!' (as text, e.g. in a CSV export or an edited cell) -> ErrorCell; anything else None."""
    stripped = value.strip()
    if stripped[:1] in ("#", "E") and _ERROR_LITERALS.match(stripped):
        return ErrorCell(stripped)
    return None


def too_many_rows(count: int, *, limits: import_limits.ImportLimits) -> errors.LimitExceeded:
    return errors.LimitExceeded(
        f"The sheet has more than {limits.max_rows:,} rows; split the file and import the parts",
        limit="max_rows", value=count, maximum=limits.max_rows,
    )


def too_many_columns(count: int, *, limits: import_limits.ImportLimits) -> errors.LimitExceeded:
    return errors.LimitExceeded(
        f"The sheet has {count:,} columns; at most {limits.max_columns:,} are allowed",
        limit="max_columns", value=count, maximum=limits.max_columns,
    )
