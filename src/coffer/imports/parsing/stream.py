"""A sheet's data rows parsed one after another; blank, repeated-header and summary lines skipped."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from itertools import islice

from coffer.imports.parsing import rows as row_parsing
from coffer.imports.parsing import dates, summary
from coffer.imports.readers import base

SAMPLE_ROWS = 2000


class RowStream:
    """Iterator of ParsedRow in statement order. Counters tell what was skipped, once consumed."""

    def __init__(self, workbook: base.Workbook, sheet: str | None, *, header_row: int | None,
                 mapping: Mapping[str, int | str], formats: row_parsing.ColumnFormats | None = None,
                 sample_rows: int = SAMPLE_ROWS):
        self.workbook, self.sheet, self.header_row = workbook, sheet, header_row
        clean = row_parsing.normalise_mapping(mapping)
        if formats is None:
            sample = self._sample(sample_rows)
            formats = row_parsing.ColumnFormats.from_sample(clean, sample)
            if len(sample) >= sample_rows:
                formats = self._prove_date_orders(formats, clean, sample)
        self.parser = row_parsing.RowParser(clean, formats)
        self.formats = formats
        self.rows_total = self.skipped_blank = self.skipped_summary = self.skipped_notes = 0
        self._iterator = self._parse()

    def __iter__(self) -> Iterator[row_parsing.ParsedRow]:
        return self

    def __next__(self) -> row_parsing.ParsedRow:
        return next(self._iterator)

    def _data_rows(self) -> Iterator[base.RawRow]:
        for row in self.workbook.iter_rows(self.sheet):
            if self.header_row is None or row.number > self.header_row:
                yield row

    def _sample(self, size: int) -> list[base.RawRow]:
        rows = self._data_rows()
        try:
            return [row for row in islice(rows, size * 2) if not row.is_blank()][:size]
        finally:
            rows.close()

    def _prove_date_orders(self, formats: row_parsing.ColumnFormats, mapping: dict[str, int],
                           sample: list[base.RawRow]) -> row_parsing.ColumnFormats:
        """The sample left a date column ambiguous (every day <= 12): look through the rest of the
        file, date cells only, for a value that decides it, so no row is read in the wrong order.
        A column whose sample holds no text at all (real spreadsheet dates) has nothing to decide."""
        open_fields = {f: mapping[f] for f, column in formats.dates.items()
                       if not column.proven and _has_text(sample, mapping[f])}
        if not open_fields:
            return formats
        decided = dict(formats.dates)
        for row in self._data_rows():
            for field, index in list(open_fields.items()):
                value = row.cells[index] if index < len(row.cells) else None
                if value is None:
                    continue
                column = dates.DateColumn.from_sample([value])
                if column.proven and column.order in ("dmy", "mdy"):
                    decided[field] = column
                    del open_fields[field]
            if not open_fields:
                break
        return dataclasses.replace(formats, dates=decided)

    def _parse(self) -> Iterator[row_parsing.ParsedRow]:
        parser = self.parser
        header: list[str] | None = None
        mapped = list(parser.mapping.values())
        key_fields = [f for f in ("date", "amount", "debit", "credit") if f in parser.mapping]
        amount_fields = [f for f in ("amount", "debit", "credit") if f in parser.mapping]
        for row in self.workbook.iter_rows(self.sheet):
            if self.header_row is not None and row.number <= self.header_row:
                if row.number == self.header_row:
                    header = _words(row.cells)
                continue
            if row.is_blank() or all(i >= len(row.cells) or row.cells[i] is None for i in mapped) or _only_errors(row):
                self.skipped_blank += 1  # an error-only line is a formula dragged below the table
                continue
            if header is not None and _repeats_header(row.cells, header):
                self.skipped_notes += 1  # the header repeated (page breaks in converted statements)
                continue
            has_date = parser.has_date(row)
            has_amount = any(parser.cell(row, f) is not None for f in amount_fields)
            if summary.is_summary_row(row.cells, has_date=has_date, has_amount=has_amount):
                self.skipped_summary += 1
                continue
            if not has_date and all(parser.cell(row, f) is None for f in key_fields):
                self.skipped_notes += 1  # a note or a wrapped description: no date, no amount
                continue
            self.rows_total += 1
            yield parser.parse(row)


def _has_text(rows: list[base.RawRow], index: int) -> bool:
    return any(index < len(row.cells) and isinstance(row.cells[index], str) for row in rows)


def _only_errors(row: base.RawRow) -> bool:
    return all(cell is None or isinstance(cell, base.ErrorCell) for cell in row.cells)


def _repeats_header(cells: list[object], header: list[str]) -> bool:
    """The header line again; the first cell decides for nearly every row before any list is built."""
    first = cells[0] if cells else None
    if (first is None and header[:1] not in ([], [""])) or (
            first is not None and (not header or str(first).strip().lower() != header[0])):
        return False
    return _words(cells) == header


def _words(cells: list[object]) -> list[str]:
    words = [str(c).strip().lower() if c is not None else "" for c in cells]
    while words and not words[-1]:
        words.pop()
    return words
