"""W_SURROUNDING_SPACES: text with leading or trailing spaces ("Paris " is not "Paris" to a lookup)."""

from __future__ import annotations

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality.rules import base

FAMILY = "spaces"
CODE = "W_SURROUNDING_SPACES"
SEVERITY = "warning"
TITLE = "Leading or trailing spaces"
DESCRIPTION = "Text that starts or ends with spaces, tabs or line breaks."


class Rule(base.Rule):
    stage = "stream"

    def row(self, row: readers_base.RawRow, emit) -> None:
        for index, cell in enumerate(row.cells):
            if isinstance(cell, str) and cell != cell.strip():
                where = ("leading and trailing" if cell[:1].isspace() and cell[-1:].isspace()
                         else "leading" if cell[:1].isspace() else "trailing")
                emit(issues.warning(
                    row=row.number, column=issues.column_letter(index), code=CODE,
                    message=f"The text has {where} spaces: {cell.strip()[:60]!r}", value=cell,
                ))
