"""W_OUTLIER_AMOUNT: only amounts far beyond everything else in the file.

Statistics over |amount| of a sample (the first rows, see rules.apply): an amount is an
outlier when it is above max(10 x the 95th percentile, 100 x the median). Salaries among
coffees, or a yearly rent, stay below that; a typo adding three zeros does not. With fewer
than 20 amounts nothing is flagged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from coffer.imports import issues
from coffer.imports.parsing import rows as row_parsing

MIN_AMOUNTS = 20


@dataclasses.dataclass(frozen=True)
class Threshold:
    limit: Decimal | None  # None: too few amounts to judge
    typical: Decimal | None = None

    @classmethod
    def from_amounts(cls, amounts: Iterable[Decimal]) -> Threshold:
        values = sorted(abs(a) for a in amounts if a)
        if len(values) < MIN_AMOUNTS:
            return cls(limit=None)
        median = values[len(values) // 2]
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        return cls(limit=max(10 * p95, 100 * median), typical=p95)


def check(row: row_parsing.ParsedRow, *, threshold: Threshold) -> None:
    if threshold.limit is None or row.amount is None or abs(row.amount) <= threshold.limit:
        return
    row.issues.append(issues.warning(
        row=row.number, column=row.amount_column, code=issues.W_OUTLIER_AMOUNT,
        message=(f"The amount {row.amount:,.2f} is far larger than the others in this file "
                 f"(nearly all are below {threshold.typical:,.2f}); please check it."),
        value=str(row.amount),
    ))
