"""E_SPREADSHEET_ERROR: a cell holds a spreadsheet error (#REF!, #DIV/0!, #N/A, #VALUE!, Err:502...).

Such a value is a broken formula, not data: whatever should be there is missing."""

from __future__ import annotations

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality.rules import base

FAMILY = "error_cells"
CODE = "E_SPREADSHEET_ERROR"
SEVERITY = "error"
TITLE = "Spreadsheet errors"
DESCRIPTION = "Cells holding #REF!, #DIV/0!, #N/A, #VALUE! or another spreadsheet error instead of a value."


class Rule(base.Rule):
    stage = "stream"

    def row(self, row: readers_base.RawRow, emit) -> None:
        for index, cell in enumerate(row.cells):
            if isinstance(cell, readers_base.ErrorCell):
                emit(issues.error(
                    row=row.number, column=issues.column_letter(index), code=CODE,
                    message=f"The cell holds the spreadsheet error {cell.code} (a broken formula), not a value",
                    value=cell.code,
                ))
