"""W_FUTURE_DATE: a booking date after today (banks do not book the future)."""

from __future__ import annotations

import datetime as dt

from coffer.imports import issues
from coffer.imports.parsing import rows as row_parsing

TOLERANCE_DAYS = 0


def check(row: row_parsing.ParsedRow, *, today: dt.date) -> None:
    if row.booked_on is not None and row.booked_on > today + dt.timedelta(days=TOLERANCE_DAYS):
        row.issues.append(issues.warning(
            row=row.number, column=row.columns.get("date"), code=issues.W_FUTURE_DATE,
            message=f"The date {row.booked_on.isoformat()} is in the future (today is {today.isoformat()}).",
            value=row.booked_on.isoformat(),
        ))
