"""Sheets for the data-quality tests: a clean table, the same table with one planted problem per
rule family, and a helper that analyses a file the way the job does (without the database)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from coffer.imports import readers
from coffer.quality import analysis
from tests.imports import builders

HEADER = ["Invoice", "Date", "Customer", "City", "Amount", "Quantity", "Email"]
CITIES = ["Paris", "Lyon", "Nice", "Lille", "Nantes"]


def clean_rows(count: int = 120, *, seed: int = 7) -> list[list[Any]]:
    """A tidy invoice list: unique ids, real dates, repeated cities spelled one way, amounts from
    everyday purchases to the occasional large order (factors apart, as real amounts are), no blanks."""
    chance = random.Random(seed)
    rows: list[list[Any]] = [list(HEADER)]
    for i in range(count):
        amount = round(chance.lognormvariate(3.5, 0.9), 2)
        if i % 25 == 7:
            amount = round(amount * 40, 2)  # a large order now and then: not an outlier
        rows.append([
            f"INV-{1000 + i}", dt.date(2024, 1, 1) + dt.timedelta(days=i // 3), f"Customer {chance.randrange(40)}",
            CITIES[chance.randrange(len(CITIES))], amount, chance.randrange(1, 20), f"buyer{i}@example.test",
        ])
    return rows


def as_text(rows: list[list[Any]]) -> list[list[Any]]:
    """The same table as a CSV export writes it (ISO dates, plain numbers)."""
    return [[cell.isoformat() if isinstance(cell, dt.date) else cell for cell in row] for row in rows]


def xlsx(tmp_path: Path, rows: list[list[Any]], *, name: str = "sheet.xlsx", sheet: str = "Data") -> Path:
    return builders.write_xlsx(tmp_path / name, {sheet: rows})


def csv(tmp_path: Path, rows: list[list[Any]], *, name: str = "sheet.csv") -> Path:
    return builders.write_csv(tmp_path / name, as_text(rows))


def analyse(path: Path, sheet: str | None = None, *, store: Path | None = None) -> analysis.Result:
    workbook = readers.open_workbook(path)
    try:
        return analysis.analyse(workbook, sheet, store=store or path.parent / f"store-{path.name}")
    finally:
        workbook.close()


def found(result: analysis.Result, code: str | None = None) -> list[tuple]:
    """(row, column, code) of the findings (of one code)."""
    return [(f.row, f.column, f.code) for f in result.findings if code is None or f.code == code]
