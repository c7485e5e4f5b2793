"""W_OUTLIER: a number far from the rest of its column, by robust statistics (median and MAD).

The modified z-score 0.6745 x |x - median| / MAD (Iglewicz and Hoaglin) is computed on two
scales, and a value is flagged only when both call it extreme:

- on the values themselves, above LINEAR_THRESHOLD (3.5, the usual cut-off);
- on their order of magnitude, log10(1 + |x|), above MAGNITUDE_THRESHOLD (7): money and counts
  vary by factors, so a salary among coffee purchases (60 times larger, every month) is normal,
  while an amount with three zeros too many (1000 times larger) is not.

An outlier is also a spike: it stands apart from the values just before and after it in the
column, so a running balance that drifts far from its median is not flagged. Median and MAD
come from the profile's uniform sample, so one huge typo cannot hide itself by
inflating a mean or a standard deviation. Columns with fewer than 20 numbers or a MAD of zero
(mostly one value) are not judged."""

from __future__ import annotations

import math

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality import cells, profile
from coffer.quality.rules import base

FAMILY = "outliers"
CODE = "W_OUTLIER"
SEVERITY = "warning"
TITLE = "Outliers"
DESCRIPTION = "A number far outside its column's usual range (robust z-score from the median and MAD)."
LINEAR_THRESHOLD = 3.5
MAGNITUDE_THRESHOLD = 7.0


class Rule(base.Rule):
    stage = "profiled"

    def begin(self, context: base.Context) -> bool:
        self.context = context
        self.columns: dict[int, tuple[tuple[float, float], tuple[float, float]]] = {}
        for stats in context.columns:
            kind, share = stats.type()
            if kind != cells.NUMBER or share < profile.TYPE_THRESHOLD:
                continue
            linear, magnitude = stats.robust(), stats.robust_magnitude()
            if linear is None or magnitude is None or linear[1] <= 0 or magnitude[1] <= 0:
                continue
            self.columns[stats.index] = (linear, magnitude)
        self.previous: dict[int, float] = {}
        self.pending: dict[int, tuple] = {}  # a candidate waits for its next neighbour
        return bool(self.columns)

    def row(self, row: readers_base.RawRow, emit) -> None:
        for index, ((median, mad), (log_median, log_mad)) in self.columns.items():
            cell = row.cells[index] if index < len(row.cells) else None
            kind, fmt = cells.classify(cell)
            if kind != cells.NUMBER:
                continue
            value = cells.number_value(cell, fmt)
            if value is None:
                continue
            step = LINEAR_THRESHOLD * mad / 0.6745  # a jump this large from a neighbour is a spike
            pending = self.pending.pop(index, None)
            if pending is not None and abs(pending[2] - value) > step:
                self._emit(index, pending, emit)
            previous = self.previous.get(index)
            self.previous[index] = value
            if 0.6745 * abs(value - median) / mad <= LINEAR_THRESHOLD:
                continue
            if 0.6745 * abs(math.log10(1 + abs(value)) - log_median) / log_mad <= MAGNITUDE_THRESHOLD:
                continue
            if previous is not None and abs(value - previous) <= step:
                continue  # part of a trend (a running balance), not a spike
            self.pending[index] = (row.number, cell, value)

    def end(self, context: base.Context, emit) -> None:
        for index, pending in sorted(self.pending.items()):
            self._emit(index, pending, emit)
        self.pending.clear()

    def _emit(self, index: int, pending: tuple, emit) -> None:
        number, cell, _ = pending
        median, mad = self.columns[index][0]
        emit(issues.warning(
            row=number, column=issues.column_letter(index), code=CODE,
            message=(f"{base.shown(cell)} is far outside the usual values of column {self.context.label(index)} "
                     f"(median {profile.number_text(median)}, most within ±{profile.number_text(3 * mad)})"),
            value=cell,
        ))
