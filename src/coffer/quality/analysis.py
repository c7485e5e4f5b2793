"""Analysing one sheet: profile and deterministic findings, independent of the database.

    result = analyse(workbook, sheet, store=folder, progress=callback)

Pass 1 streams the sheet from the file once: every row goes to the row store (for the viewer
and pass 2), data rows feed the profile and the "stream" rules. Pass 2 reads the row store
back for the rules that need the finished profile (a column's type, format, median...).
Neither pass keeps rows: memory is bounded by the profile's fixed-size accumulators and the
findings kept (rules.base.MAX_TOTAL). The header row is found among the first rows; rows
above it and blank rows are not data.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from coffer.imports import issues
from coffer.imports.readers import base
from coffer.quality import cells, profile, rowstore, rules

# Bump when the profile or a rule changes what it finds: cached analyses of older versions are redone.
VERSION = 1
PROGRESS_EVERY = 5000


@dataclasses.dataclass
class Result:
    sheet: str | None
    rows: int
    header_row: int | None
    profile: dict[str, Any]
    findings: list[issues.Issue]
    counts: dict[str, dict[str, int]]  # code -> column letter ("" for whole rows) -> findings, all counted

    @property
    def total(self) -> int:
        return sum(sum(columns.values()) for columns in self.counts.values())


def analyse(
    workbook: base.Workbook, sheet: str | None, *, store: Path,
    progress: Callable[[int], None] | None = None,
) -> Result:
    rows = workbook.iter_rows(sheet)
    try:
        head = list(itertools.islice(rows, profile.HEADER_SCAN))
        header_row = profile.detect_header(head)
        header = next((row.cells for row in head if row.number == header_row), None)
        profiler = profile.Profiler(header=header, header_row=header_row)
        width = max((len(row.cells) for row in head), default=0)
        context = rules.Context(sheet=sheet, header_row=header_row, names=profile.column_names(header, width))
        collect = rules.Collector()
        streaming = [rule for rule in rules.create("stream") if rule.begin(context)]
        writer = rowstore.Writer(store, sheet)
        try:
            for row in itertools.chain(head, rows):
                writer.add(row)
                if progress is not None and writer.count % PROGRESS_EVERY == 0:
                    progress(writer.count)
                if _is_data(row, header_row):
                    profiler.add(row)
                    for rule in streaming:
                        rule.row(row, collect)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    total_rows = writer.count
    context.columns = profiler.columns
    context.names = [stats.name for stats in profiler.columns]
    for rule in streaming:
        rule.end(context, collect)
    profiled = [rule for rule in rules.create("profiled") if rule.begin(context)]
    stored = rowstore.Store.open(store, sheet)
    if profiled and stored is not None:
        for row in _data(stored.iter_rows(), header_row):
            for rule in profiled:
                rule.row(row, collect)
    for rule in profiled:
        rule.end(context, collect)
    findings = _with_values(collect.sorted(), stored)
    if progress is not None:
        progress(total_rows)
    return Result(
        sheet=sheet, rows=total_rows, header_row=header_row,
        profile=profiler.result(sheet=sheet, rows=total_rows), findings=findings, counts=collect.totals(),
    )


def _is_data(row: base.RawRow, header_row: int | None) -> bool:
    return (header_row is None or row.number > header_row) and not row.is_blank()


def _data(stream: Iterator[base.RawRow], header_row: int | None) -> Iterator[base.RawRow]:
    return (row for row in stream if _is_data(row, header_row))


def _with_values(found: list[issues.Issue], stored: rowstore.Store | None) -> list[issues.Issue]:
    """Fill in the cell value of findings that name a cell but were made from hashes (duplicates)."""
    missing = [f for f in found if f.value is None and f.row is not None and f.column and f.code in _VALUE_CODES]
    if not missing or stored is None:
        return found
    wanted = {(f.row, f.column) for f in missing}
    missing_set = set(missing)
    values: dict[tuple[int, str], str] = {}
    pages = sorted({stored.page_of_row(row) for row, _ in wanted})
    for page in pages:
        for row in stored.page(page):
            for index, cell in enumerate(row.cells):
                if cell is not None and (row.number, issues.column_letter(index)) in wanted:
                    values[(row.number, issues.column_letter(index))] = cells.display(cell)
    return [dataclasses.replace(f, value=values.get((f.row, f.column))) if f in missing_set else f for f in found]


_VALUE_CODES = {rules.duplicate_values.CODE}
