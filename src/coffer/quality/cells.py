"""One cell as the data-quality code sees it: its kind, its written format, its JSON form.

`classify(cell)` -> (kind, format):

    kind     blank | text | number | date | time | duration | boolean | error
    format   how the value is written, for the mixed-format rule and the profile:
             numbers: "number" (a real number cell), "integer", "decimal point" (1234.5, 1,234.5),
                      "decimal comma" (1234,5, 1.234,5), "grouped" (1,234 or 1.234: either mark)
             dates:   "date" / "datetime" (real date cells), or the text's shape, e.g.
                      "yyyy-mm-dd", "dd.mm.yyyy", "mm/dd/yyyy", "nn/nn/yyyy" (day/month order
                      not shown by the value), "d month yyyy", "month d, yyyy"

Text that reads as a number or a date counts as that kind (a CSV has nothing but text); its
format says it was written as text. Nothing here reads Django settings.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Any

from coffer.imports.parsing import dates
from coffer.imports.readers import base

BLANK, TEXT, NUMBER, DATE, TIME, DURATION, BOOLEAN, ERROR = (
    "blank", "text", "number", "date", "time", "duration", "boolean", "error",
)
KIND_NAMES = {
    TEXT: "text", NUMBER: "numbers", DATE: "dates", TIME: "times", DURATION: "durations", BOOLEAN: "true/false values",
    ERROR: "error values",
}
NATIVE_FORMATS = frozenset({"number", "date", "datetime", "time", "duration", "boolean"})
AMBIGUOUS_NUMBER = frozenset({"integer", "grouped"})

_NUMBER_TEXT = re.compile(r"^[+-]?(?:\d{1,3}(?:([,.\u00a0' ])\d{3})+|\d+)(?:([.,])(\d+))?$")
_CURRENCY = re.compile(r"^([+-]?)\s*(?:[$€£¥₹]|[A-Z]{3}\s)?\s*([+-]?[\d.,\u00a0' ]+?)\s*(?:[$€£¥₹]|\s[A-Z]{3})?$")
_SIMPLE_DECIMAL = re.compile(r"^[+-]?(?:\d+)?([.,])\d+$")


def classify(cell: base.Cell) -> tuple[str, str | None]:
    if type(cell) is str:  # the common case first (a CSV is all text)
        return classify_text(cell)[:2]
    if cell is None:
        return BLANK, None
    if isinstance(cell, base.ErrorCell):
        return ERROR, None
    if isinstance(cell, bool):
        return BOOLEAN, "boolean"
    if isinstance(cell, (int, float, Decimal)):
        return NUMBER, "number"
    if isinstance(cell, dt.datetime):
        return DATE, "datetime"
    if isinstance(cell, dt.date):
        return DATE, "date"
    if isinstance(cell, dt.time):
        return TIME, "time"
    if isinstance(cell, dt.timedelta):
        return DURATION, "duration"
    return classify_text(str(cell))[:2]


_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=32_768)  # sheets repeat their dates, amounts and categories
def classify_text(text: str) -> tuple[str, str | None, float | None, dt.date | None]:
    """(kind, format, number value, date value) of a text cell."""
    stripped = text.strip()
    if not stripped:
        return BLANK, None, None, None
    if len(stripped) > 40 or "@" in stripped or not _DIGIT.search(stripped):
        return TEXT, None, None, None
    number = number_format(stripped)
    if number is not None:
        return NUMBER, number, _number_from_text(stripped, number), None
    shape = date_format(stripped)
    if shape is not None:
        return DATE, shape, None, _date_from_text(stripped, shape)
    return TEXT, None, None, None


def number_format(text: str) -> str | None:
    """The written format of a number in text (a currency sign or code around it is allowed), or None."""
    if len(text) > 40:
        return None
    text = _bare_number(text)
    match = _NUMBER_TEXT.match(text)
    if match is None:
        simple = _SIMPLE_DECIMAL.match(text)
        if simple is None:
            return None
        return "decimal point" if simple.group(1) == "." else "decimal comma"
    group, mark, decimals = match.group(1), match.group(2), match.group(3)
    if group and mark:
        if group == mark:
            return None  # 1.234.5
        return "decimal point" if mark == "." else "decimal comma"
    if group:
        # 1,234 / 1.234.567 / 1 234: one kind of separator between groups of three.
        if group in ",." and text.count(group) == 1:
            return "grouped"
        return "decimal comma" if group == "." else "decimal point" if group == "," else "integer"
    if mark:
        if len(decimals) == 3 and len(text.lstrip("+-").split(mark)[0]) <= 3:
            return "grouped"
        return "decimal point" if mark == "." else "decimal comma"
    if len(text.lstrip("+-")) > 1 and text.lstrip("+-").startswith("0"):
        return None  # 00123: a code, not a number
    return "integer"


def _bare_number(text: str) -> str:
    """'-$1,234.50', '(12.50)', '12,50 €', 'EUR 12.50' -> the number with its sign only."""
    body = text.strip()
    if body.startswith("(") and body.endswith(")"):
        body = "-" + body[1:-1].strip()
    match = _CURRENCY.match(body)
    if match:
        body = (match.group(1) or "") + match.group(2)
    return body


def date_format(text: str) -> str | None:
    """The written shape of a valid date in text ("yyyy-mm-dd", "dd.mm.yyyy"...), or None."""
    if len(text) > 40:
        return None
    match = dates.ISO.match(text)
    if match:
        if not _valid(int(match.group(1)), int(match.group(2)), int(match.group(3))):
            return None
        sep = text[4]
        return f"yyyy{sep}mm{sep}dd" + (" hh:mm" if len(text) > 10 else "")
    match = dates.NUMERIC.match(text)
    if match:
        first, sep, second, year = int(match.group(1)), match.group(2), int(match.group(3)), match.group(4)
        years = "yyyy" if len(year) == 4 else "yy"
        full_year = int(year) if len(year) == 4 else 2000 + int(year)
        day_first = _valid(full_year, second, first)
        month_first = _valid(full_year, first, second)
        if not day_first and not month_first:
            return None
        if day_first and not month_first:
            order = f"dd{sep}mm"
        elif month_first and not day_first:
            order = f"mm{sep}dd"
        else:
            order = f"nn{sep}nn"
        return f"{order}{sep}{years}" + (" hh:mm" if len(text) > len(match.group(0).split(' ')[0]) else "")
    for pattern, group, shape in ((dates.TEXT_DMY, 2, "d month yyyy"), (dates.TEXT_MDY, 1, "month d, yyyy")):
        match = pattern.match(text)
        if match and dates.month_number(match.group(group)):
            try:
                dates.DateColumn().parse_text(text)
            except dates.InvalidDate:
                return None
            return shape
    return None


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def formats_conflict(first: str, second: str) -> bool:
    """Whether two formats of one kind disagree (1,5 vs 1.5; dd/mm/yyyy vs mm/dd/yyyy; a date cell vs text)."""
    if first == second:
        return False
    if first in AMBIGUOUS_NUMBER or second in AMBIGUOUS_NUMBER:
        return first in NATIVE_FORMATS or second in NATIVE_FORMATS  # "12" as text among number cells
    if {first, second} == {"date", "datetime"}:
        return False
    if first.startswith("nn") or second.startswith("nn"):
        a, b = (first, second) if first.startswith("nn") else (second, first)
        return not (len(a) == len(b) and a[2] == b[2] and a[5:] == b[5:] and b[:2] in ("dd", "mm"))
    return True


def value_key(cell: base.Cell) -> str:
    """A text key for counting equal values (distinct, top values, duplicates)."""
    if type(cell) is str:
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    return str(cell)


def display(cell: base.Cell) -> str:
    """The value as a person reads it (for messages and the top values)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() and abs(cell) < 1e15 else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    if isinstance(cell, dt.timedelta):
        return _duration(cell)
    return str(cell)


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


# --- faithful JSON (the row store and the API) ---------------------------------


def to_json(cell: base.Cell) -> Any:
    """Compact JSON for the row store: text as a string, everything else tagged."""
    if cell is None or isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return {"b": cell}
    if isinstance(cell, int):
        return {"n": cell}
    if isinstance(cell, float):
        return {"n": cell} if cell == cell and cell not in (float("inf"), float("-inf")) else {"e": "#NUM!"}
    if isinstance(cell, Decimal):
        return {"d": str(cell)}
    if isinstance(cell, dt.datetime):
        return {"dt": cell.isoformat()}
    if isinstance(cell, dt.date):
        return {"da": cell.isoformat()}
    if isinstance(cell, dt.time):
        return {"t": cell.isoformat()}
    if isinstance(cell, dt.timedelta):
        return {"td": cell.total_seconds()}
    if isinstance(cell, base.ErrorCell):
        return {"e": cell.code}
    return str(cell)


def from_json(value: Any) -> base.Cell:
    if value is None or isinstance(value, str):
        return value
    (tag, raw), = value.items()
    if tag == "n":
        return raw
    if tag == "b":
        return bool(raw)
    if tag == "d":
        return Decimal(raw)
    if tag == "dt":
        return dt.datetime.fromisoformat(raw)
    if tag == "da":
        return dt.date.fromisoformat(raw)
    if tag == "t":
        return dt.time.fromisoformat(raw)
    if tag == "td":
        return dt.timedelta(seconds=raw)
    if tag == "e":
        return base.ErrorCell(raw)
    raise ValueError(f"unknown cell tag {tag!r}")


def typed(cell: base.Cell) -> dict[str, Any] | None:
    """The API/web form: {"type", "value"} with the value as text (numbers exact, dates ISO)."""
    if cell is None:
        return None
    if isinstance(cell, base.ErrorCell):
        return {"type": "error", "value": cell.code}
    if isinstance(cell, bool):
        return {"type": "boolean", "value": "TRUE" if cell else "FALSE"}
    if isinstance(cell, (int, float, Decimal)):
        return {"type": "number", "value": display(cell) if not isinstance(cell, Decimal) else str(cell)}
    if isinstance(cell, dt.datetime):
        return {"type": "datetime", "value": cell.isoformat()}
    if isinstance(cell, dt.date):
        return {"type": "date", "value": cell.isoformat()}
    if isinstance(cell, dt.time):
        return {"type": "time", "value": cell.isoformat()}
    if isinstance(cell, dt.timedelta):
        return {"type": "duration", "value": _duration(cell)}
    return {"type": "text", "value": str(cell)}


def number_value(cell: base.Cell, fmt: str | None) -> float | None:
    """A number cell (or number text, read by its written format) as a float for statistics."""
    if type(cell) is str:
        return classify_text(cell)[2]
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float, Decimal)):
        value = float(cell)
        return value if value == value and abs(value) != float("inf") else None
    return None


def _number_from_text(text: str, fmt: str) -> float | None:
    body = _bare_number(text).replace("\u00a0", "").replace(" ", "").replace("'", "")
    if fmt == "decimal comma":
        body = body.replace(".", "").replace(",", ".")
    elif fmt == "grouped":
        body = body.replace(",", "").replace(".", "")
    else:
        body = body.replace(",", "")
    try:
        return float(body)
    except ValueError:
        return None


def date_value(cell: base.Cell, fmt: str | None) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if type(cell) is str:
        return classify_text(cell)[3]
    return None


def _date_from_text(text: str, fmt: str) -> dt.date | None:
    order = "mdy" if fmt.startswith("mm") else "dmy"
    try:
        return dates.DateColumn(order=order).parse_text(text)
    except dates.InvalidDate:
        return None
