"""The error report of an import: every row with an issue, as .xlsx (highlighted, commented) or CSV.

Rows come from the staging table in pages by row number, never all at once; the writers take
an iterable of pages so the caller decides in which thread (and with which connection) each
page is fetched. The .xlsx is written in xlsxwriter's constant_memory mode, row by row.

Both formats carry cells typed by strangers: the CSV prefixes every cell that a spreadsheet
would read as a formula with a single quote, and the .xlsx writes every cell as a plain string.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db import models

from coffer.imports import selectors
from coffer.imports.models import ImportBatch, StagedRow
from coffer.tenancy.models import Tenant

PAGE_ROWS = 1000
ISSUE_COLUMNS = ("row", "column", "code", "severity", "message", "value")
ERROR_FILL, WARNING_FILL = "#FFC7CE", "#FFEB9C"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_XLSX_MAX_CHARS = 32_767
_HAS_ISSUE = models.Q(has_error=True) | models.Q(has_warning=True) | models.Q(is_duplicate=True)


# --- reading ----------------------------------------------------------------


def issue_row_page(
    *, tenant: Tenant, batch_id: Any, after: int | None = None, size: int = PAGE_ROWS
) -> tuple[list[StagedRow], int | None]:
    """Up to `size` rows with at least one issue, after row `after`; the next key or None."""
    queryset = StagedRow.objects.filter(tenant=tenant, batch_id=batch_id).filter(_HAS_ISSUE)
    if after is not None:
        queryset = queryset.filter(row_number__gt=after)
    rows = list(queryset.order_by("row_number")[: size + 1])
    if len(rows) > size:
        rows = rows[:size]
        return rows, rows[-1].row_number
    return rows, None


def issue_row_pages(*, tenant: Tenant, batch_id: Any, size: int = PAGE_ROWS) -> Iterator[list[StagedRow]]:
    after: int | None = None
    while True:
        rows, after = issue_row_page(tenant=tenant, batch_id=batch_id, after=after, size=size)
        if rows:
            yield rows
        if after is None:
            return


def column_count(batch: ImportBatch) -> int:
    """Columns of the sheet that was read, when the reader said; else 0."""
    for info in batch.sheets or []:
        # A CSV has one unnamed sheet: the reader says None, the batch stores "".
        if (info.get("name") or "") == (batch.sheet or "") and isinstance(info.get("columns"), int):
            return info["columns"]
    return 0


def safe_file_name(original: str, *, suffix: str) -> str:
    """`Bank März "2024".xlsx` -> `Bank M_rz _2024_-errors.csv`: no path, quote or line break survives."""
    stem = (original or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = _SUFFIX.sub("", stem)
    stem = _UNSAFE_NAME.sub("_", stem).strip(" ._-")[:80] or "import"
    return f"{stem}-errors.{suffix}"


# --- CSV --------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A cell no spreadsheet executes: text beginning with = + - @ tab or CR gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_chunks(pages: Iterable[list[StagedRow]], *, columns: int = 0) -> Iterator[bytes]:
    """One line per issue: row, column, code, severity, message, value, then the row's raw cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*ISSUE_COLUMNS, *(selectors.column_letter(i) for i in range(columns))])
    yield ("\ufeff" + buffer.getvalue()).encode()  # the BOM makes Excel read UTF-8
    for rows in pages:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            cells = [csv_cell(cell) for cell in row.raw or []]
            for issue in selectors.row_issues(row):
                writer.writerow([row.row_number, *(csv_cell(issue.get(key)) for key in ISSUE_COLUMNS[1:]), *cells])
        yield buffer.getvalue().encode()


# --- xlsx -------------------------------------------------------------------


def _comment(issues: list[dict[str, Any]]) -> str:
    return "\n".join(f"{issue['code']}: {issue['message']}" for issue in issues)[:_XLSX_MAX_CHARS]


def _cell_issues(row: StagedRow) -> dict[int, list[dict[str, Any]]]:
    """Issues by report column: the cell's own column shifted by one, or 0 (the "Row" cell) when none."""
    by_column: dict[int, list[dict[str, Any]]] = {}
    for issue in selectors.row_issues(row):
        index = selectors.column_index(issue.get("column")) if issue.get("column") is not None else None
        by_column.setdefault(0 if index is None else index + 1, []).append(issue)
    return by_column


def write_xlsx(pages: Iterable[list[StagedRow]], path: Path | str, *, columns: int = 0) -> None:
    """Sheet "Rows": the row number, then the original cells in their original columns (B = the file's A),
    offending cells filled by severity with a comment per issue. Sheet "Issues": one line per issue."""
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False},
    )
    try:
        bold = workbook.add_format({"bold": True})
        fills = {
            "error": workbook.add_format({"bg_color": ERROR_FILL, "font_color": "#9C0006"}),
            "warning": workbook.add_format({"bg_color": WARNING_FILL, "font_color": "#9C5700"}),
        }
        rows_sheet = workbook.add_worksheet("Rows")
        issues_sheet = workbook.add_worksheet("Issues")
        rows_sheet.write_string(0, 0, "Row", bold)
        for index in range(columns):
            rows_sheet.write_string(0, index + 1, selectors.column_letter(index), bold)
        rows_sheet.freeze_panes(1, 1)
        for index, title in enumerate(ISSUE_COLUMNS):
            issues_sheet.write_string(0, index, title, bold)
        issues_sheet.freeze_panes(1, 0)

        line, issue_line = 0, 0
        for rows in pages:
            for row in rows:
                line += 1
                by_column = _cell_issues(row)
                fill = {col: fills["error" if any(i["severity"] == "error" for i in found) else "warning"]
                        for col, found in by_column.items()}
                rows_sheet.write_number(line, 0, row.row_number, fill.get(0))
                raw = row.raw or []
                for index, cell in enumerate(raw):
                    rows_sheet.write_string(line, index + 1, str(cell)[:_XLSX_MAX_CHARS], fill.get(index + 1))
                for col, found in sorted(by_column.items()):
                    if col > len(raw):
                        rows_sheet.write_blank(line, col, None, fill[col])
                    rows_sheet.write_comment(line, col, _comment(found))
                    for issue in found:
                        issue_line += 1
                        issues_sheet.write_number(issue_line, 0, row.row_number)
                        for index, key in enumerate(ISSUE_COLUMNS[1:], start=1):
                            value = issue.get(key)
                            if value is not None:
                                issues_sheet.write_string(issue_line, index, str(value)[:_XLSX_MAX_CHARS])
    finally:
        workbook.close()
