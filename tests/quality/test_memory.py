"""Bounded memory: the analysis of a 200k-row sheet and deep pages never hold the sheet as Python objects."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tracemalloc

from coffer.imports import readers
from coffer.quality import analysis, viewer

ROWS = 200_000  # and a fifth of it: memory must not grow with the rows


def _large_csv(path, rows=ROWS):
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Id;Date;Customer;City;Amount;Email\n")
        for i in range(rows):
            day = dt.date(2020, 1, 1) + dt.timedelta(days=i // 200)
            city = ("Paris", "Lyon", "Nice", "Lille")[i % 4]
            handle.write(f"C-{i};{day:%d.%m.%Y};Customer {i % 5000};{city};{(i % 9000) / 100 + 1:.2f};"
                         f"person{i}@example.test\n".replace(".", ",", 0))
    return path


def _peak(call):
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


_MEASURE = """
import json, resource, sys
from pathlib import Path
from coffer.imports import readers
from coffer.quality import analysis
result = analysis.analyse(readers.open_workbook(sys.argv[1]), None, store=Path(sys.argv[2]))
columns = {c["name"]: c for c in result.profile["columns"]}
print(json.dumps({"rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rows": result.rows,
                  "data_rows": result.profile["data_rows"], "findings": len(result.findings),
                  "types": {name: c["type"] for name, c in columns.items()},
                  "id_distinct": columns["Id"]["distinct"], "cities": columns["City"]["distinct"]}))
"""


def _analyse_apart(path, store) -> dict:
    """The analysis in a fresh interpreter, with that process's peak resident memory (everything it held)."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(store)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_analysis_memory_does_not_grow_with_the_sheet(tmp_path):
    small = _analyse_apart(_large_csv(tmp_path / "small.csv", rows=ROWS // 5), tmp_path / "small-store")
    large = _analyse_apart(_large_csv(tmp_path / "large.csv"), tmp_path / "large-store")
    assert (large["rows"], large["data_rows"], large["findings"]) == (ROWS + 1, ROWS, 0)
    assert large["types"] == {"Id": "text", "Date": "date", "Customer": "text", "City": "text", "Amount": "number",
                              "Email": "text"}
    assert abs(large["id_distinct"] - ROWS) / ROWS < 0.1 and large["cities"] == 4
    grown = (large["rss_kb"] - small["rss_kb"]) / 1024
    assert grown < 20, f"{ROWS // 5} rows: {small['rss_kb'] / 1024:.0f} MB; {ROWS} rows: {large['rss_kb'] / 1024:.0f} MB"


def test_a_deep_page_skips_rows_without_keeping_them(tmp_path):
    path = _large_csv(tmp_path / "deep.csv", rows=60_000)
    page, peak = _peak(lambda: viewer.page(path, sheet=None, store=None, number=550, rows_total=60_001))
    assert [page.rows[0].number, page.rows[-1].number] == [54_901, 55_000]
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_a_deep_page_from_the_row_store_reads_only_that_page(tmp_path):
    path = _large_csv(tmp_path / "stored.csv", rows=55_000)
    store = tmp_path / "store"
    analysis.analyse(readers.open_workbook(path), None, store=store)
    page, peak = _peak(lambda: viewer.page(path, sheet=None, store=store, number=550))
    assert page.from_store and [page.rows[0].number, page.rows[-1].number] == [54_901, 55_000]
    assert peak < 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
