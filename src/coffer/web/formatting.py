"""How the web app shows money and dates: two decimals (more only when the amount has them), with the
grouping, decimal mark and date order the signed-in person chose on their profile.

`activate()` sets those choices for the current request (coffer.web.preferences does it per request,
next to Django's time zone); with nothing active the defaults apply: 1,234.56 and 2024-01-31.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from asgiref.local import Local

DATE_PATTERNS = {"iso": "%Y-%m-%d", "dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}
NUMBER_MARKS = {"1,234.56": (",", "."), "1.234,56": (".", ","), "1 234,56": ("\u00a0", ",")}  # group, decimal
DEFAULT_DATE_FORMAT = "iso"
DEFAULT_NUMBER_FORMAT = "1,234.56"

_active = Local()


def activate(*, date_format: str, number_format: str) -> None:
    _active.date_format = date_format if date_format in DATE_PATTERNS else DEFAULT_DATE_FORMAT
    _active.number_format = number_format if number_format in NUMBER_MARKS else DEFAULT_NUMBER_FORMAT


def active_formats() -> str:
    """The date and number formats in force, as one word (part of cached fragments' keys)."""
    return f"{getattr(_active, 'date_format', DEFAULT_DATE_FORMAT)}:{getattr(_active, 'number_format', DEFAULT_NUMBER_FORMAT)}"


def deactivate() -> None:
    for name in ("date_format", "number_format"):
        if hasattr(_active, name):
            delattr(_active, name)


def _places(value: Decimal) -> Decimal:
    return Decimal("0.01") if value == value.quantize(Decimal("0.01")) else Decimal("0.0001")


def money(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.quantize(_places(value)):,}"
    group, decimal = NUMBER_MARKS[getattr(_active, "number_format", DEFAULT_NUMBER_FORMAT)]
    if (group, decimal) == (",", "."):
        return text
    return text.translate(str.maketrans({",": group, ".": decimal}))


def plain(value: Decimal | None) -> str:
    """The amount as a form field shows it: "-12.50", not "-12.5000" nor "-1,212.50"."""
    if value is None:
        return ""
    return str(value.quantize(_places(value)))


def day(value: dt.date | None) -> str:
    """A date (or the date of a datetime already in the person's time zone) in the chosen order."""
    if value is None or value == "":
        return ""
    return value.strftime(DATE_PATTERNS[getattr(_active, "date_format", DEFAULT_DATE_FORMAT)])


def moment(value: dt.datetime | None) -> str:
    """A datetime already in the person's time zone: its date in the chosen order, then hours and minutes."""
    if value is None or value == "":
        return ""
    if not isinstance(value, dt.datetime):
        return day(value)
    return f"{day(value)} {value:%H:%M}"
