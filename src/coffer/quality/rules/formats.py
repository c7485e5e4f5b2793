"""W_MIXED_FORMAT: dates or numbers written another way than the rest of their column.

"2024-03-01" among "01.03.2024", "1.234,50" among "1,234.50", 03/15/2024 among 15/03/2024, or
a date or number typed as text among real date or number cells. The column's main format is
its most common one; a value whose format disagrees with it (cells.formats_conflict) is
flagged. Forms that fit either ("12", "1,234", "05/06/2024") never are."""

from __future__ import annotations

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality import cells, profile
from coffer.quality.rules import base

FAMILY = "formats"
CODE = "W_MIXED_FORMAT"
SEVERITY = "warning"
TITLE = "Mixed date or number formats"
DESCRIPTION = "Dates or numbers written in another format than the rest of their column."
_NAMES = {"number": "a number cell", "date": "a date cell", "datetime": "a date cell",
          "decimal point": "a decimal point (1234.50)", "decimal comma": "a decimal comma (1234,50)",
          "integer": "a whole number", "grouped": "digit groups (1,234)"}


def _name(fmt: str) -> str:
    if fmt in _NAMES:
        return _NAMES[fmt]
    return fmt if fmt.startswith(("d ", "month")) else f"the format {fmt}"


class Rule(base.Rule):
    stage = "profiled"

    def begin(self, context: base.Context) -> bool:
        self.context = context
        self.columns: dict[int, tuple[str, str]] = {}
        for stats in context.columns:
            kind, share = stats.type()
            if kind in (cells.NUMBER, cells.DATE) and share >= profile.TYPE_THRESHOLD and stats.conflicting_formats():
                self.columns[stats.index] = (kind, stats.main_format())
        return bool(self.columns)

    def row(self, row: readers_base.RawRow, emit) -> None:
        for index, (expected, main) in self.columns.items():
            cell = row.cells[index] if index < len(row.cells) else None
            kind, fmt = cells.classify(cell)
            if kind != expected or fmt is None or not cells.formats_conflict(main, fmt):
                continue
            if main in cells.NATIVE_FORMATS and fmt not in cells.NATIVE_FORMATS:
                what = "date" if expected == cells.DATE else "number"
                message = (f"{base.shown(cell)!r} is a {what} typed as text; the rest of column "
                           f"{self.context.label(index)} holds {what} cells")
            else:
                message = (f"{base.shown(cell)!r} is written with {_name(fmt)}; most of column "
                           f"{self.context.label(index)} uses {_name(main)}")
            emit(issues.warning(row=row.number, column=issues.column_letter(index), code=CODE,
                                message=message, value=cell))
