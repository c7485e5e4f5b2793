"""Parsing: raw cells to typed transaction rows with row-level issues.

    parse_rows(workbook, sheet, header_row=5, mapping={"date": 0, ...}) -> RowStream (Iterator[ParsedRow])
    parse_row(number, cells, mapping=..., formats=None) -> ParsedRow   # one edited row

Column-wide decisions (day-first or month-first, decimal mark) come from a sample of the
first rows (`ColumnFormats`); keep `stream.formats.as_dict()` to re-parse edited rows alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from coffer.imports.parsing import rows as _rows
from coffer.imports.parsing import stream as _stream
from coffer.imports.readers import base

ParsedRow = _rows.ParsedRow
RowParser = _rows.RowParser
ColumnFormats = _rows.ColumnFormats
RowStream = _stream.RowStream
normalise_mapping = _rows.normalise_mapping


def parse_rows(workbook: base.Workbook, sheet: str | None, *, header_row: int | None,
               mapping: Mapping[str, int | str], formats: ColumnFormats | None = None) -> RowStream:
    return _stream.RowStream(workbook, sheet, header_row=header_row, mapping=mapping, formats=formats)


def parse_row(number: int, cells: Sequence[Any], *, mapping: Mapping[str, int | str],
              formats: ColumnFormats | Mapping[str, Any] | None = None) -> ParsedRow:
    """Parse one row given as cells (typically edited text). Without `formats`, the row alone decides
    the column formats (an ambiguous date such as 03/04/2024 is then read day-first)."""
    raw = base.RawRow(number=number, cells=[
        None if c is None or (isinstance(c, str) and not c.strip())
        else (base.error_literal(c) or c) if isinstance(c, str) else c
        for c in cells
    ])
    clean = normalise_mapping(mapping)
    if isinstance(formats, Mapping):
        formats = ColumnFormats.from_dict(formats)
    if formats is None:
        formats = ColumnFormats.from_sample(clean, [raw])
    return RowParser(clean, formats).parse(raw)
