"""W_BLANK_IN_FILLED_COLUMN: a blank cell in a column that is filled on at least 90% of the rows.

Blank rows are not counted (they are not data), and a column needs at least 10 values. Blanks
that another column explains are not findings: when, on the rows where this column is blank,
one mostly-empty column is filled instead (Debit blank where Credit holds the amount), the two
are one value split in two columns."""

from __future__ import annotations

import collections

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality.rules import base

FAMILY = "blanks"
CODE = "W_BLANK_IN_FILLED_COLUMN"
SEVERITY = "warning"
TITLE = "Blanks in a filled column"
DESCRIPTION = "A blank cell in a column that is filled on nearly every other row."
FILLED_SHARE = 0.9
MIN_VALUES = 10
EXPLAINED_SHARE = 0.9  # of the blanks, filled in the other column
PARTNER_MAX_FILLED = 0.5  # the other column is mostly empty


class Rule(base.Rule):
    stage = "profiled"

    def begin(self, context: base.Context) -> bool:
        self.context = context
        self.columns: dict[int, float] = {}
        self.partners: list[int] = []
        for stats in context.columns:
            total = stats.filled + stats.blanks
            if stats.blanks and stats.filled >= MIN_VALUES and stats.filled >= FILLED_SHARE * total:
                self.columns[stats.index] = stats.filled / total
            if total and stats.filled <= PARTNER_MAX_FILLED * total:
                self.partners.append(stats.index)
        self.blank_rows: dict[int, list[int]] = {index: [] for index in self.columns}
        self.blanks: dict[int, int] = collections.Counter()
        self.filled_instead: dict[int, collections.Counter] = {index: collections.Counter() for index in self.columns}
        return bool(self.columns)

    def row(self, row: readers_base.RawRow, emit) -> None:
        for index in self.columns:
            if index < len(row.cells) and row.cells[index] is not None:
                continue
            self.blanks[index] += 1
            if len(self.blank_rows[index]) < base.MAX_PER_COLUMN:
                self.blank_rows[index].append(row.number)
            for partner in self.partners:
                if partner < len(row.cells) and row.cells[partner] is not None:
                    self.filled_instead[index][partner] += 1

    def end(self, context: base.Context, emit) -> None:
        for index, share in self.columns.items():
            blanks = self.blanks[index]
            if not blanks:
                continue
            explained = self.filled_instead[index].most_common(1)
            if explained and explained[0][1] >= EXPLAINED_SHARE * blanks:
                continue
            letter = issues.column_letter(index)
            for number in self.blank_rows[index]:
                emit(issues.warning(
                    row=number, column=letter, code=CODE,
                    message=f"The cell is blank, while column {context.label(index)} is filled on {share:.0%} of the rows",
                    value=None,
                ))
            emit.count(CODE, letter, blanks - len(self.blank_rows[index]))
