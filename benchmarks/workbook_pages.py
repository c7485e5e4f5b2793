"""Workbook viewer: page 1 vs a deep page of a large sheet, before and after its analysis.

Generates an .xlsx (or CSV) of N rows, then times, in this process:
  - page 1 and the page holding row 75% of the way down, read straight from the file
    (no analysis yet: the viewer streams the sheet and skips rows without keeping them);
  - the analysis (profile + rules, one streaming pass plus one pass over its row store);
  - the same two pages from the row store the analysis wrote.
Prints one JSON object; never asserts a time.

    .venv/bin/python benchmarks/workbook_pages.py [--rows 200000] [--format xlsx|csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from coffer.imports import readers  # noqa: E402
from coffer.quality import analysis, viewer  # noqa: E402


def generate(path: Path, rows: int, fmt: str) -> None:
    header = ["Id", "Date", "Customer", "City", "Amount", "Quantity", "Note", "Email"]
    cities = ("Paris", "Lyon", "Nice")

    def row(i: int) -> list:
        return [i, dt.datetime(2020, 1, 1) + dt.timedelta(days=i % 1000), f"Customer {i % 5000}", cities[i % 3],
                (i % 9000) / 100, i % 17, "note", f"person{i}@example.test"]

    if fmt == "csv":
        with path.open("w", encoding="utf-8") as handle:
            handle.write(",".join(header) + "\n")
            for i in range(1, rows + 1):
                handle.write(",".join(v.date().isoformat() if isinstance(v, dt.datetime) else str(v)
                                      for v in row(i)) + "\n")
        return
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Data")
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, header)
    for i in range(1, rows + 1):
        for c, value in enumerate(row(i)):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(i, c, value, dates)
            else:
                sheet.write(i, c, value)
    book.close()


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, round(time.perf_counter() - start, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coffer-bench-") as folder:
        path = Path(folder) / f"large.{options.format}"
        _, generate_seconds = timed(lambda: generate(path, options.rows, options.format))
        sheet = "Data" if options.format == "xlsx" else None
        total = options.rows + 1
        deep_row = int(total * 0.75)
        store = Path(folder) / "store"
        first, first_s = timed(lambda: viewer.page(path, sheet=sheet, store=None, number=1, rows_total=total))
        deep, deep_s = timed(lambda: viewer.page(path, sheet=sheet, store=None, row=deep_row, rows_total=total))
        workbook = readers.open_workbook(path)
        result, analysis_s = timed(lambda: analysis.analyse(workbook, sheet, store=store))
        workbook.close()
        stored_first, stored_first_s = timed(lambda: viewer.page(path, sheet=sheet, store=store, number=1))
        stored_deep, stored_deep_s = timed(lambda: viewer.page(path, sheet=sheet, store=store, row=deep_row))
        assert stored_deep.number == deep.number and stored_deep.rows[0].number == deep.rows[0].number
        print(json.dumps({
            "rows": options.rows, "format": options.format, "deep_page": deep.number,
            "from_file": {"page_1_seconds": first_s, "deep_page_seconds": deep_s},
            "analysis_seconds": analysis_s, "analysis_rows_per_second": round(options.rows / analysis_s),
            "from_row_store": {"page_1_seconds": stored_first_s, "deep_page_seconds": stored_deep_s},
            "findings": len(result.findings),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "generate_seconds": generate_seconds,
        }))


if __name__ == "__main__":
    main()
