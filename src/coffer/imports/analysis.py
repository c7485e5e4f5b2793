"""The whole pure pipeline in one call: sniff, read, map, parse, rules. No database.

    result = analyze(path, account_currency="EUR", today=date(2024, 7, 1))
    result.sheet, result.header_row, result.mapping   # {"date": "A", ...}
    result.rows_total, result.rows_with_errors, result.issues

Rows are streamed and counted; only their issues are kept (and the rows themselves when
`keep_rows=True`, for small files and tests). Raises UnreadableFile / LimitExceeded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coffer.imports import issues as issue_records
from coffer.imports import limits as import_limits
from coffer.imports import mapping as mapping_detection
from coffer.imports import parsing, readers, rules


@dataclasses.dataclass
class Analysis:
    format: str
    sheet: str | None
    sheets: list[readers.SheetInfo]
    header_row: int | None
    mapping: dict[str, str]
    confidence: float
    confidences: dict[str, float]
    signature: str
    formats: dict[str, Any]
    rows_total: int = 0
    rows_with_errors: int = 0
    skipped_summary: int = 0
    issues: list[issue_records.Issue] = dataclasses.field(default_factory=list)
    rows: list[parsing.ParsedRow] = dataclasses.field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    def issues_on(self, row: int) -> list[issue_records.Issue]:
        return [issue for issue in self.issues if issue.row == row]


def analyze(path: Path | str, *, account_currency: str | None = None, today: dt.date | None = None,
            sheet: str | None = None, mapping: Mapping[str, int | str] | None = None,
            header_row: int | None = None, limits: import_limits.ImportLimits | None = None,
            keep_rows: bool = False) -> Analysis:
    limits = limits or import_limits.ImportLimits()
    workbook = readers.open_workbook(path, limits=limits)
    try:
        names = [info.name for info in workbook.sheets]
        if sheet is not None and workbook.format != "csv" and sheet not in names:
            listed = ", ".join(repr(n) for n in names)
            raise readers.UnreadableFile(f"The file has no sheet named {sheet!r}; its sheets are {listed}")
        chosen = sheet if sheet is not None and workbook.format != "csv" else readers.choose_sheet(workbook)
        detection = mapping_detection.detect(workbook, chosen)
        if mapping is not None:
            columns = parsing.normalise_mapping(mapping)
            header = header_row if header_row is not None else detection.header_row
        else:
            columns, header = detection.mapping, detection.header_row
        stream = parsing.parse_rows(workbook, chosen, header_row=header, mapping=columns)
        result = Analysis(
            format=workbook.format, sheet=chosen, sheets=workbook.sheets, header_row=header,
            mapping={f: issue_records.column_letter(i) for f, i in columns.items()},
            confidence=1.0 if mapping is not None else detection.confidence,
            confidences=dict(detection.confidences), signature=detection.signature,
            formats=stream.formats.as_dict(), encoding=getattr(workbook, "encoding", None),
            delimiter=getattr(workbook, "delimiter", None),
        )
        for row in rules.apply(stream, account_currency=account_currency, today=today):
            result.issues.extend(row.issues)
            result.rows_with_errors += row.has_error
            if keep_rows:
                result.rows.append(row)
        result.rows_total = stream.rows_total
        result.skipped_summary = stream.skipped_summary
        return result
    finally:
        workbook.close()
