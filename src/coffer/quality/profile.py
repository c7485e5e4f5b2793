"""Column profile of a sheet, built in one streaming pass with bounded memory.

Per column: the inferred type and the share of values that follow it, blanks, distinct
values, min/max, top values, the formats values are written in (two date formats mixed show
up here), leading/trailing spaces and error cells. Memory does not grow with the number of
rows: distinct values are counted exactly up to DISTINCT_K and estimated beyond (k minimum
values), top values are exact up to TOP_CAPACITY distinct values and approximate beyond,
median and MAD come from a fixed-size uniform sample of the numbers, and spelling groups are
kept only while a column looks categorical (at most SPELLING_KEYS different values).

    profiler = Profiler(header=["Date", "Amount"])   # or header=None: columns named by letter
    for row in data_rows: profiler.add(row)
    result = profiler.result()                        # JSON-ready dict, see Profiler.result
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import heapq
import math
import random
import re
import statistics
import unicodedata
from collections.abc import Sequence
from typing import Any

from coffer.imports import issues
from coffer.imports.readers import base
from coffer.quality import cells

VERSION = 1
DISTINCT_K = 1024
TOP_CAPACITY = 1000
TOP_SHOWN = 5
SAMPLE_SIZE = 4096
SPELLING_KEYS = 1000
SPELLING_VARIANTS = 8
TYPE_THRESHOLD = 0.9  # a column "is" a type when at least this share of its values follow it
HEADER_SCAN = 30
_MASK = (1 << 64) - 1
_INF = float("inf")
_FULL = float(1 << 64)
_SPELLING_DROP = re.compile(r"[^\w]+")


# --- header ----------------------------------------------------------------------------


def detect_header(head: Sequence[base.RawRow]) -> int | None:
    """The row number of the header among the first rows, or None (columns are then named A, B...).

    The first row with at least two cells, all text that reads neither as a number nor as a
    date, all different, and as wide as the rows under it (at least 3/4 of their usual
    number of cells), so title lines such as "Account: ..." above the header lose."""
    rows = [row for row in head[:HEADER_SCAN] if not row.is_blank()]
    for position, row in enumerate(rows):
        below = [sum(cell is not None for cell in other.cells) for other in rows[position + 1:position + 11]]
        if not below:
            return None
        filled = [cell for cell in row.cells if cell is not None]
        if len(filled) < 2 or len(filled) < 0.75 * statistics.median(below):
            continue
        if any(not isinstance(cell, str) or cells.classify(cell)[0] != cells.TEXT for cell in filled):
            continue
        names = [cell.strip().casefold() for cell in filled]
        if len(set(names)) != len(names):
            continue
        return row.number
    return None


def column_names(header: Sequence[base.Cell] | None, width: int) -> list[str]:
    names = []
    for index in range(width):
        cell = header[index] if header is not None and index < len(header) else None
        text = str(cell).strip() if cell is not None else ""
        names.append(text[:120] or issues.column_letter(index))
    return names


# --- bounded accumulators ----------------------------------------------------------------


class DistinctCounter:
    """Exact below k distinct values, a k-minimum-values estimate (about 3% off) above."""

    def __init__(self, k: int = DISTINCT_K):
        self.k = k
        self._heap: list[int] = []  # negated: the largest of the k smallest on top
        self._members: set[int] = set()

    def add(self, key: str) -> None:
        value = hash(key) & _MASK
        if value in self._members:
            return
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, -value)
            self._members.add(value)
        elif value < -self._heap[0]:
            dropped = -heapq.heapreplace(self._heap, -value)
            self._members.discard(dropped)
            self._members.add(value)

    @property
    def exact(self) -> bool:
        return len(self._heap) < self.k

    def estimate(self) -> int:
        if self.exact:
            return len(self._heap)
        return int(round((self.k - 1) / ((-self._heap[0] + 1) / _FULL)))


class TopCounter:
    """Counts per value; past 2 x capacity distinct values the rarest half is dropped (approximate)."""

    def __init__(self, capacity: int = TOP_CAPACITY):
        self.capacity = capacity
        self.counts: dict[str, int] = {}
        self.exact = True

    def add(self, key: str) -> None:
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        if len(counts) > 2 * self.capacity:
            keep = heapq.nlargest(self.capacity, counts.items(), key=lambda item: item[1])
            self.counts = dict(keep)
            self.exact = False

    def top(self, n: int) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:n]


class Sample:
    """A uniform sample of at most `size` numbers (reservoir sampling, seeded: the same file gives the same sample)."""

    def __init__(self, size: int = SAMPLE_SIZE, seed: int = 0):
        self.size = size
        self.values: list[float] = []
        self.seen = 0
        self._random = random.Random(seed)

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        slot = int(self._random.random() * self.seen)
        if slot < self.size:
            self.values[slot] = value


@functools.lru_cache(maxsize=16_384)
def spelling_key(text: str) -> str:
    """'  Zürich ' / 'ZURICH' / 'zurich.' -> 'zurich': what inconsistent spellings share."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_SPELLING_DROP.sub(" ", plain.casefold()).split())


@dataclasses.dataclass
class ColumnStats:
    index: int
    name: str
    filled: int = 0
    blanks: int = 0
    errors: int = 0
    spaces: int = 0
    kinds: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    formats: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    distinct: DistinctCounter = dataclasses.field(default_factory=DistinctCounter)
    top: TopCounter = dataclasses.field(default_factory=TopCounter)
    sample: Sample | None = None
    number_min: tuple[float, base.Cell] | None = None
    number_max: tuple[float, base.Cell] | None = None
    date_min: dt.date | None = None
    date_max: dt.date | None = None
    length_min: int | None = None
    length_max: int | None = None
    spellings: dict[str, collections.Counter] | None = dataclasses.field(default_factory=dict)

    def add(self, cell: base.Cell) -> None:
        kind_of = type(cell)
        text = kind_of is str
        if text:
            kind, fmt, number, day = cells.classify_text(cell)
        elif kind_of is float and cell == cell and cell not in (_INF, -_INF):  # the usual spreadsheet number
            kind, fmt, number, day = cells.NUMBER, "number", cell, None
        elif kind_of is dt.datetime:
            kind, fmt, number, day = cells.DATE, "datetime", None, cell.date()
        elif kind_of is dt.date:
            kind, fmt, number, day = cells.DATE, "date", None, cell
        else:
            kind, fmt = cells.classify(cell)
            number = cells.number_value(cell, fmt) if kind == cells.NUMBER else None
            day = cells.date_value(cell, fmt) if kind == cells.DATE else None
        if kind == cells.BLANK:
            self.blanks += 1
            return
        self.filled += 1
        kinds = self.kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == cells.ERROR:
            self.errors += 1
            return
        if fmt is not None:
            formats = self.formats
            formats[fmt] = formats.get(fmt, 0) + 1
        key = cell if text else cells.value_key(cell)
        self.distinct.add(key)
        self.top.add(key if len(key) <= 80 else key[:79] + "…")
        if number is not None:
            if self.sample is None:
                self.sample = Sample(seed=self.index)
            self.sample.add(number)
            if self.number_min is None or number < self.number_min[0]:
                self.number_min = (number, cell)
            if self.number_max is None or number > self.number_max[0]:
                self.number_max = (number, cell)
        elif day is not None:
            if self.date_min is None or day < self.date_min:
                self.date_min = day
            if self.date_max is None or day > self.date_max:
                self.date_max = day
        if text:
            length = len(cell)
            if self.length_min is None or length < self.length_min:
                self.length_min = length
            if self.length_max is None or length > self.length_max:
                self.length_max = length
            if cell[0].isspace() or cell[-1].isspace():
                self.spaces += 1
            if kind == cells.TEXT and self.spellings is not None:
                group_key = spelling_key(cell)
                group = self.spellings.get(group_key)
                if group is None:
                    if len(self.spellings) >= SPELLING_KEYS:
                        self.spellings = None  # too many different values: not a category
                        return
                    group = self.spellings[group_key] = collections.Counter()
                if cell in group or len(group) < SPELLING_VARIANTS:
                    group[cell] += 1

    # --- decisions the rules share ---

    @property
    def typed_values(self) -> int:
        return self.filled - self.errors

    def type(self) -> tuple[str, float]:
        """(kind, share of the non-blank, non-error values that are of that kind); ("blank", 0) when empty."""
        counts = {kind: n for kind, n in self.kinds.items() if kind != cells.ERROR}
        total = sum(counts.values())
        if not total:
            return (cells.ERROR if self.errors else cells.BLANK), 0.0
        kind = max(counts, key=lambda k: (counts[k], k == cells.TEXT))
        return kind, counts[kind] / total

    def merged_formats(self) -> dict[str, int]:
        """Formats with the undecided day/month order ("nn.nn.yyyy") counted under the one order the
        column proves with the same separators, when it proves exactly one."""
        merged = dict(self.formats)
        for fmt in [f for f in merged if f.startswith("nn")]:
            proven = [f for f in merged if f[:2] in ("dd", "mm") and f.replace("dd", "nn").replace("mm", "nn") == fmt]
            if len(proven) == 1:
                merged[proven[0]] += merged.pop(fmt)
        return dict(sorted(merged.items(), key=lambda item: -item[1]))

    def main_format(self) -> str | None:
        kind, _ = self.type()
        own = self._formats_of(kind)
        return max(own, key=lambda f: (own[f], f in cells.NATIVE_FORMATS)) if own else None

    def _formats_of(self, kind: str) -> dict[str, int]:
        numbers = {"number", "integer", "decimal point", "decimal comma", "grouped"}
        formats = self.merged_formats()
        if kind == cells.NUMBER:
            return {f: n for f, n in formats.items() if f in numbers}
        if kind == cells.DATE:
            return {f: n for f, n in formats.items() if f not in numbers and f not in cells.NATIVE_FORMATS
                    or f in ("date", "datetime")}
        return {}

    def conflicting_formats(self) -> dict[str, int]:
        """Formats of the column's own kind that disagree with its main format ({} when consistent)."""
        main = self.main_format()
        if main is None:
            return {}
        return {f: n for f, n in self._formats_of(self.type()[0]).items() if cells.formats_conflict(main, f)}

    def robust(self) -> tuple[float, float] | None:
        """(median, MAD) of the sampled numbers, or None with fewer than 20."""
        if self.sample is None or len(self.sample.values) < 20:
            return None
        return _median_mad(self.sample.values)

    def robust_magnitude(self) -> tuple[float, float] | None:
        """(median, MAD) of log10(1 + |x|) over the sample: the scale on which amounts vary."""
        if self.sample is None or len(self.sample.values) < 20:
            return None
        return _median_mad([math.log10(1 + abs(v)) for v in self.sample.values])

    def looks_unique(self) -> bool:
        values = self.typed_values
        return values >= 20 and self.distinct.estimate() >= 0.97 * values

    def spelling_groups(self) -> dict[str, collections.Counter]:
        """Groups of more than one spelling, for a column that repeats its values (a category)."""
        if not self.spellings or self.type()[0] != cells.TEXT:
            return {}
        texts = self.kinds.get(cells.TEXT, 0)
        if len(self.spellings) > max(1, texts // 2):
            return {}
        return {key: group for key, group in self.spellings.items() if len(group) > 1}

    def result(self) -> dict[str, Any]:
        kind, share = self.type()
        total = self.filled + self.blanks
        out: dict[str, Any] = {
            "index": self.index,
            "column": issues.column_letter(self.index),
            "name": self.name,
            "type": kind,
            "consistency": round(share, 4),
            "kinds": dict(sorted(self.kinds.items())),
            "filled": self.filled,
            "blanks": self.blanks,
            "blank_ratio": round(self.blanks / total, 4) if total else 0.0,
            "distinct": self.distinct.estimate(),
            "distinct_exact": self.distinct.exact,
            "unique": self.looks_unique(),
            "min": None,
            "max": None,
            "top": [{"value": value, "count": count} for value, count in self.top.top(TOP_SHOWN)],
            "top_exact": self.top.exact,
            "formats": dict(list(self.merged_formats().items())[:20]),
            "mixed_formats": bool(self.conflicting_formats()),
            "spaces": self.spaces,
            "errors": self.errors,
        }
        if kind == cells.NUMBER and self.number_min is not None:
            out["min"], out["max"] = cells.display(self.number_min[1]).strip(), cells.display(self.number_max[1]).strip()
            robust = self.robust()
            if robust is not None:
                out["median"], out["mad"] = number_text(robust[0]), number_text(robust[1])
        elif kind == cells.DATE and self.date_min is not None:
            out["min"], out["max"] = self.date_min.isoformat(), self.date_max.isoformat()
        elif kind == cells.TEXT and self.length_min is not None:
            out["length_min"], out["length_max"] = self.length_min, self.length_max
        return out


def _median_mad(values: list[float]) -> tuple[float, float]:
    median = statistics.median(values)
    return median, statistics.median(abs(v - median) for v in values)


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.6g}"


class Profiler:
    def __init__(self, *, header: Sequence[base.Cell] | None = None, header_row: int | None = None):
        self.header = list(header) if header is not None else None
        self.header_row = header_row
        self.columns: list[ColumnStats] = []
        self.data_rows = 0
        self.blank_rows = 0

    def _column(self, index: int) -> ColumnStats:
        while len(self.columns) <= index:
            position = len(self.columns)
            name = column_names(self.header, position + 1)[position]
            stats = ColumnStats(index=position, name=name)
            stats.blanks = self.data_rows  # the rows before this column first had a value
            self.columns.append(stats)
        return self.columns[index]

    def add(self, row: base.RawRow) -> None:
        if row.is_blank():
            self.blank_rows += 1
            return
        width = len(row.cells)
        while width and row.cells[width - 1] is None:
            width -= 1
        if width:
            self._column(width - 1)
        for index, stats in enumerate(self.columns):
            stats.add(row.cells[index] if index < width else None)
        self.data_rows += 1

    def result(self, *, sheet: str | None, rows: int) -> dict[str, Any]:
        if self.header is not None:
            named = len([c for c in self.header if c is not None])
            while len(self.columns) < min(named, len(self.header)):
                self._column(len(self.columns))
        return {
            "version": VERSION,
            "sheet": sheet,
            "rows": rows,
            "header_row": self.header_row,
            "data_rows": self.data_rows,
            "blank_rows": self.blank_rows,
            "columns": [stats.result() for stats in self.columns],
        }
