"""W_DUPLICATE_VALUE: a value repeated in a column whose values are otherwise all different (an id).

Only id-like columns are judged, so repeated amounts or names raise nothing: values that are
single tokens (codes, references, e-mail addresses: no spaces) or whole numbers under a header
that names an id ("ID", "No.", "Number", "Code", "Reference"...), in a column where at least
98% of the values are distinct (3 repeats are allowed in a small column). Candidate columns are chosen on the first WARMUP data rows (at
most MAX_COLUMNS), then tracked through a 64-bit hash on disk (quality.dupes)."""

from __future__ import annotations

import re

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality import cells, dupes
from coffer.quality.rules import base

FAMILY = "duplicate_values"
CODE = "W_DUPLICATE_VALUE"
SEVERITY = "warning"
TITLE = "Duplicate ids"
DESCRIPTION = "A value repeated in a column whose other values are all different, such as an invoice number."
WARMUP = 500
MAX_COLUMNS = 16
MAX_REPEAT_SHARE = 0.02  # more repeats than this (or than 3 in a small column): the column is not an id
_ID_NAME = re.compile(
    r"(?:^|[\s_\-#.])(id|ids|no|nr|num|number|nummer|numero|número|code|ref|reference|key|uuid|sku|iban|e-?mail|#)"
    r"(?:$|[\s_\-#.:])|^#|id$", re.IGNORECASE,
)
_TOKEN = re.compile(r"^\S{1,64}$")


def allowed(values: int) -> int:
    return max(3, int(MAX_REPEAT_SHARE * values))


def _id_shaped(cell: readers_base.Cell, *, named: bool) -> bool:
    if isinstance(cell, bool):
        return False
    if isinstance(cell, (int, float)):
        return named and float(cell).is_integer()
    if isinstance(cell, str):
        text = cell.strip()
        if not _TOKEN.match(text):
            return False
        kind, fmt = cells.classify(text)
        if kind == cells.NUMBER:
            return named and fmt == "integer"
        return kind == cells.TEXT
    return False


class Rule(base.Rule):
    stage = "stream"

    def __init__(self) -> None:
        self.index = dupes.DuplicateIndex()
        self.named: dict[int, bool] = {}
        self.warm: dict[int, list[tuple[int, int]]] | None = {}  # column -> [(hash, row)] during warm-up
        self.dropped: set[int] = set()
        self.tracked: set[int] = set()
        self.seen = 0

    def begin(self, context: base.Context) -> bool:
        self.named = {i: bool(_ID_NAME.search(name)) for i, name in enumerate(context.names)}
        return True

    def row(self, row: readers_base.RawRow, emit) -> None:
        self.seen += 1
        if self.warm is not None:
            for index, cell in enumerate(row.cells):
                if cell is None or index in self.dropped:
                    continue
                if not _id_shaped(cell, named=self.named.get(index, False)):
                    self.dropped.add(index)
                    self.warm.pop(index, None)
                    continue
                self.warm.setdefault(index, []).append((dupes.key_hash(cells.value_key(cell).strip()), row.number))
            if self.seen >= WARMUP:
                self._choose()
            return
        for index in self.tracked:
            cell = row.cells[index] if index < len(row.cells) else None
            if cell is not None:
                self.index.add(dupes.key_hash(cells.value_key(cell).strip()), row=row.number, column=index)

    def _choose(self) -> None:
        candidates = []
        for index, values in (self.warm or {}).items():
            repeats = len(values) - len({key for key, _ in values})
            if len(values) >= 20 and repeats <= allowed(len(values)):
                candidates.append((repeats, index))
        self.tracked = {index for _, index in sorted(candidates)[:MAX_COLUMNS]}
        for index in self.tracked:
            for key, number in self.warm[index]:
                self.index.add(key, row=number, column=index)
        self.warm = None

    def end(self, context: base.Context, emit) -> None:
        try:
            if self.warm is not None:
                self._choose()
            limits = {}
            for index in self.tracked:
                stats = context.columns[index] if index < len(context.columns) else None
                if stats is not None and stats.typed_values >= 20:
                    limits[index] = allowed(stats.typed_values)
            if not limits:
                return
            found = self.index.duplicates(limit_per_column=limits)
        finally:
            self.index.close()
        for index, entry in sorted(found.items()):
            if index not in limits or entry.overflow:
                continue  # too many repeats: not an id column after all
            letter = issues.column_letter(index)
            for number, first in entry.pairs:
                emit(issues.warning(
                    row=number, column=letter, code=CODE,
                    message=(f"This value is also in row {first}; the other values of column "
                             f"{context.label(index)} are all different (an id?)"),
                    value=None,
                ))
