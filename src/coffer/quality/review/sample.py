"""A bounded, stratified sample of a sheet's data rows, including rows with findings.

The data rows are cut into STRATA equal slices from the first row to the last and one row is
drawn from each (seeded by the file's hash: the same file gives the same sample, so the same
question is asked again and the cache answers). Up to FINDING_ROWS rows that carry
deterministic findings are added, a few per finding code. The sample is read from the
analysis's row store in one pass, keeping only the chosen rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from coffer.imports.readers import base
from coffer.quality import rowstore

STRATA = 25
FINDING_ROWS = 15
PER_CODE = 3


def finding_rows(findings: Iterable[tuple[int | None, str]]) -> list[int]:
    """Rows to add for findings given as (row, code) in sheet order: a few per code, at most FINDING_ROWS."""
    per_code: dict[str, int] = {}
    chosen: list[int] = []
    for row, code in findings:
        if row is None or row in chosen or per_code.get(code, 0) >= PER_CODE:
            continue
        per_code[code] = per_code.get(code, 0) + 1
        chosen.append(row)
        if len(chosen) >= FINDING_ROWS:
            break
    return chosen


def positions(*, data_rows: int, seed: str) -> set[int]:
    """One 0-based data-row position drawn from each of STRATA equal slices."""
    if data_rows <= STRATA:
        return set(range(data_rows))
    chance = random.Random(seed)
    chosen = set()
    for stratum in range(STRATA):
        start = stratum * data_rows // STRATA
        end = (stratum + 1) * data_rows // STRATA
        chosen.add(start + chance.randrange(max(1, end - start)))
    return chosen


def draw(store: rowstore.Store, *, header_row: int | None, data_rows: int, seed: str,
         extra_rows: Iterable[int]) -> list[base.RawRow]:
    wanted = positions(data_rows=data_rows, seed=seed)
    extra = set(extra_rows)
    found: list[base.RawRow] = []
    position = 0
    for row in store.iter_rows():
        if (header_row is not None and row.number <= header_row) or row.is_blank():
            continue
        if position in wanted or row.number in extra:
            found.append(row)
        position += 1
        if len(found) >= len(wanted) + len(extra):
            break
    return found
