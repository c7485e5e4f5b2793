"""Any sheet of an upload, every row, a page at a time, cells as they are typed in the file.

Rows are shown as the spreadsheet has them (header, title and blank rows included), PAGE_SIZE
to a page, numbered as the spreadsheet numbers them. Once the sheet has been analysed, pages
come from its row store (quality.rowstore): one seek, the same cost for page 1 and page
5,000. Before that, the page is read from the file itself, streaming: the rows before it are
skipped as they come, never kept.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from coffer.imports import readers
from coffer.imports.readers import base
from coffer.quality import rowstore

PAGE_SIZE = rowstore.PAGE_SIZE


@dataclasses.dataclass
class Page:
    sheet: str | None
    number: int
    size: int
    rows: list[base.RawRow]
    rows_total: int | None  # rows in the sheet (None while unknown)
    from_store: bool

    @property
    def pages(self) -> int | None:
        if self.rows_total is None:
            return None
        return max(1, (self.rows_total + self.size - 1) // self.size)

    @property
    def columns(self) -> int:
        return max((len(row.cells) for row in self.rows), default=0)


def sheets(path: Path, *, limits: readers.ImportLimits | None = None) -> list[base.SheetInfo]:
    """Every worksheet with its size (a CSV is one sheet named None)."""
    workbook = readers.open_workbook(path, limits=limits or readers.ImportLimits.from_settings())
    try:
        return list(workbook.sheets)
    finally:
        workbook.close()


def page(
    path: Path, *, sheet: str | None, store: Path | None, number: int = 1, row: int | None = None,
    rows_total: int | None = None, limits: readers.ImportLimits | None = None,
) -> Page:
    """Page `number` (1-based; past the end: the last page), or the page holding spreadsheet row `row`."""
    stored = rowstore.Store.open(store, sheet) if store is not None else None
    if stored is not None:
        if row is not None:
            number = stored.page_of_row(row)
        number = max(1, min(number, max(1, stored.pages)))
        return Page(sheet=sheet, number=number, size=PAGE_SIZE, rows=stored.page(number), rows_total=stored.rows,
                    from_store=True)
    if rows_total is not None:
        number = max(1, min(number, max(1, (rows_total + PAGE_SIZE - 1) // PAGE_SIZE)))
    workbook = readers.open_workbook(path, limits=limits or readers.ImportLimits.from_settings())
    try:
        stream = workbook.iter_rows(sheet)
        try:
            if row is not None:
                number, found = _page_holding(stream, row)
            else:
                skipped = itertools.islice(stream, (number - 1) * PAGE_SIZE)
                for _ in skipped:  # consumed and dropped
                    pass
                found = list(itertools.islice(stream, PAGE_SIZE))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    finally:
        workbook.close()
    return Page(sheet=sheet, number=number, size=PAGE_SIZE, rows=found, rows_total=rows_total, from_store=False)


def _page_holding(stream, row_number: int) -> tuple[int, list[base.RawRow]]:
    """Walk pages (keeping only the current one) until the one holding `row_number` (or the last)."""
    current: list[base.RawRow] = []
    number = 0
    for position, item in enumerate(stream):
        if position % PAGE_SIZE == 0:
            if current and current[-1].number >= row_number:
                return number, current
            current, number = [], number + 1
        current.append(item)
    return max(1, number), current
