"""Readers: one per file family, all yielding `RawRow`s lazily.

    workbook = open_workbook(path, limits=ImportLimits())
    workbook.format            # "xlsx", "xlsm", "xlsb", "xls", "ods" or "csv" (decided by content)
    workbook.sheets            # [SheetInfo(name, rows, columns, visible)]
    choose_sheet(workbook)     # the sheet holding the transaction table (None for CSV)
    workbook.iter_rows(sheet)  # Iterator[RawRow(number, cells)]

Limits (rows, columns, cell length) are enforced while streaming and raise LimitExceeded;
any other reason a file cannot be read is UnreadableFile.
"""

from __future__ import annotations

from pathlib import Path

from coffer.imports import errors, sniff
from coffer.imports import limits as import_limits
from coffer.imports.readers import base, csvfile, spreadsheet

UnreadableFile = errors.UnreadableFile
LimitExceeded = errors.LimitExceeded
ImportLimits = import_limits.ImportLimits
RawRow = base.RawRow
SheetInfo = base.SheetInfo
ErrorCell = base.ErrorCell
Workbook = base.Workbook


def open_workbook(path: Path | str, *, limits: import_limits.ImportLimits | None = None) -> base.Workbook:
    limits = limits or import_limits.ImportLimits()
    sniffed = sniff.sniff(path, limits=limits)
    if sniffed.format == "csv":
        return csvfile.CsvWorkbook(Path(path), limits=limits)
    return spreadsheet.SpreadsheetWorkbook(Path(path), format=sniffed.format, limits=limits)


def choose_sheet(workbook: base.Workbook) -> str | None:
    """The visible sheet whose header detection scores best (a summary sheet loses); ties: file order."""
    from coffer.imports import mapping

    if workbook.format == "csv":
        return None
    candidates = [info for info in workbook.sheets if info.rows > 0]
    if not candidates:
        return workbook.sheets[0].name
    scored = [
        (info.visible, mapping.detect(workbook, info.name).score, -position, info.name)
        for position, info in enumerate(candidates)
    ]
    return max(scored)[3]
