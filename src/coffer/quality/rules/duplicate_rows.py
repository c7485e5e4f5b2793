"""W_DUPLICATE_ROW: a row that repeats an earlier row cell for cell (blank rows do not count).

Rows are compared through a 64-bit hash kept on disk (quality.dupes), not in memory."""

from __future__ import annotations

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality import cells, dupes
from coffer.quality.rules import base

FAMILY = "duplicate_rows"
CODE = "W_DUPLICATE_ROW"
SEVERITY = "warning"
TITLE = "Duplicate rows"
DESCRIPTION = "A row that repeats an earlier row exactly, cell for cell."
ROW = -1


class Rule(base.Rule):
    stage = "stream"

    def __init__(self) -> None:
        self.index = dupes.DuplicateIndex()

    def row(self, row: readers_base.RawRow, emit) -> None:
        width = len(row.cells)
        while width and row.cells[width - 1] is None:
            width -= 1
        parts = [cells.value_key(cell) if cell is not None else "\x00" for cell in row.cells[:width]]
        self.index.add(dupes.key_hash(*parts), row=row.number, column=ROW)

    def end(self, context: base.Context, emit) -> None:
        try:
            found = self.index.duplicates(limit_per_column=base.MAX_PER_COLUMN).get(ROW)
        finally:
            self.index.close()
        if found is None:
            return
        for number, first in found.pairs:
            emit(issues.warning(row=number, column=None, code=CODE,
                                message=f"This row repeats row {first} exactly", value=None))
        emit.count(CODE, "", found.count - len(found.pairs))  # past the limit: counted, not listed
