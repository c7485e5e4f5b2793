"""W_TYPE_MISMATCH: a value that breaks its column's type, such as "n/a" among numbers.

A column has a type when at least 90% of its values (blanks and error cells aside) are of
one kind, and only number, date, time and true/false columns are judged: a number in a text
column (a code "123" among names) is normal."""

from __future__ import annotations

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality import cells, profile
from coffer.quality.rules import base

FAMILY = "type_breaks"
CODE = "W_TYPE_MISMATCH"
SEVERITY = "warning"
TITLE = "Values of the wrong type"
DESCRIPTION = "A value that is not of its column's type, such as text in a column of numbers or dates."
JUDGED = (cells.NUMBER, cells.DATE, cells.TIME, cells.BOOLEAN)
MIN_VALUES = 10


class Rule(base.Rule):
    stage = "profiled"

    def begin(self, context: base.Context) -> bool:
        self.context = context
        self.expected: dict[int, str] = {}
        for stats in context.columns:
            kind, share = stats.type()
            if kind in JUDGED and share >= profile.TYPE_THRESHOLD and share < 1 and stats.typed_values >= MIN_VALUES:
                self.expected[stats.index] = kind
        return bool(self.expected)

    def row(self, row: readers_base.RawRow, emit) -> None:
        for index, expected in self.expected.items():
            cell = row.cells[index] if index < len(row.cells) else None
            kind, _ = cells.classify(cell)
            if kind in (cells.BLANK, cells.ERROR) or kind == expected:
                continue
            emit(issues.warning(
                row=row.number, column=issues.column_letter(index), code=CODE,
                message=(f"{base.shown(cell)!r} is {_article(kind)} in column {self.context.label(index)}, "
                         f"whose values are {cells.KIND_NAMES[expected]}"),
                value=cell,
            ))


def _article(kind: str) -> str:
    return {cells.TEXT: "text", cells.NUMBER: "a number", cells.DATE: "a date", cells.TIME: "a time",
            cells.DURATION: "a duration", cells.BOOLEAN: "a true/false value"}.get(kind, kind)
