"""A large CSV streams through reading, parsing and rules with bounded memory."""

from __future__ import annotations

import datetime as dt
import tracemalloc

from coffer.imports import mapping, parsing, readers, rules

ROWS = 200_000


def test_a_200k_row_csv_streams_with_bounded_memory(tmp_path):
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Date;Description;Amount;Balance\n")
        balance = 0
        for i in range(ROWS):
            cents = -(100 + i % 9000)
            balance += cents
            day = dt.date(2020, 1, 1) + dt.timedelta(days=i // 200)
            handle.write(f"{day:%d.%m.%Y};Card payment shop {i % 500} ref {i};{cents / 100:.2f};{balance / 100:.2f}\n"
                         .replace(".", ",", 0))
    tracemalloc.start()
    try:
        workbook = readers.open_workbook(path)
        detection = mapping.detect(workbook, None)
        stream = parsing.parse_rows(workbook, None, header_row=detection.header_row, mapping=detection.mapping)
        count = errors = 0
        for row in rules.apply(stream, today=dt.date(2030, 1, 1)):
            count += 1
            errors += row.has_error
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (count, errors, stream.rows_total) == (ROWS, 0, ROWS)
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
