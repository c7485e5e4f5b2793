"""Dates in every shape bank files use, with day-first vs month-first decided per column.

`DateColumn.from_sample(values)` looks at a column's values and decides the order of
numeric dates for the whole column: a first part above 12 proves day-first, a second part
above 12 proves month-first; with no proof, dotted dates are day-first and slashed ones
follow the majority of proofs or default to day-first. `DateColumn.parse(value)` then
parses one cell or raises `InvalidDate` (the caller words the issue).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = 10_000, 80_000  # 1927-05-18 .. 2119-01-10: plausible statement dates

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}|[AaPp][Mm]))?)?"
ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$")
NUMERIC = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME + "$")
COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
TEXT_DMY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|er)?[\s.\-/]*([^\W\d_]+)\.?[\s.\-/,]*(\d{4}|\d{2})$")
TEXT_MDY = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")

_MONTH_WORDS = {
    1: "jan january januar janv janvier janner ene enero gen gennaio januari jaen",
    2: "feb february februar fev fevr fevrier febrero febbraio februari",
    3: "mar march marz mrz mars marzo maart",
    4: "apr april avr avril abr abril aprile",
    5: "may mai mayo mag maggio mei",
    6: "jun june juni juin junio giu giugno",
    7: "jul july juli juil juillet julio lug luglio",
    8: "aug august aout ago agosto augustus",
    9: "sep sept september septembre septiembre set settembre",
    10: "oct october okt oktober octobre octubre ott ottobre",
    11: "nov november novembre noviembre",
    12: "dec december dez dezember decembre dic diciembre dicembre",
}
MONTHS = {word: month for month, words in _MONTH_WORDS.items() for word in words.split()}

ORDERS = ("dmy", "mdy", "ymd")
_EXAMPLES = {"dmy": ("day{0}month{0}year", "15{0}03{0}2024"), "mdy": ("month{0}day{0}year", "03{0}15{0}2024"),
             "ymd": ("year{0}month{0}day", "2024{0}03{0}15")}


class InvalidDate(ValueError):
    pass


def month_number(word: str) -> int | None:
    token = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))
    token = token.strip(".")
    return MONTHS.get(token) or (MONTHS.get(token[:3]) if len(token) > 3 else None)


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _make(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidDate from None


@dataclasses.dataclass(frozen=True)
class DateColumn:
    order: str = "dmy"  # for numeric text dates: "dmy" or "mdy"
    separator: str = "/"
    proven: bool = False  # whether a value proved the order (else it is a default)

    @classmethod
    def from_sample(cls, values: Iterable[Any]) -> DateColumn:
        votes = {"dmy": 0, "mdy": 0}
        separators: dict[str, int] = {}
        iso = 0
        for value in values:
            if not isinstance(value, str):
                continue
            text = value.strip()
            if ISO.match(text):
                iso += 1
                continue
            match = NUMERIC.match(text)
            if not match:
                continue
            first, sep, second = int(match.group(1)), match.group(2), int(match.group(3))
            separators[sep] = separators.get(sep, 0) + 1
            if first > 12 >= second:
                votes["dmy"] += 1
            elif second > 12 >= first:
                votes["mdy"] += 1
        if not separators:
            return cls(order="ymd" if iso else "dmy", separator="-" if iso else "/", proven=bool(iso))
        separator = max(separators, key=separators.get)
        if votes["dmy"] or votes["mdy"]:
            return cls(order="mdy" if votes["mdy"] > votes["dmy"] else "dmy", separator=separator, proven=True)
        return cls(order="dmy", separator=separator, proven=False)

    def describe(self) -> str:
        words, example = _EXAMPLES[self.order]
        return f"{words.format(self.separator)} like {example.format(self.separator)}"

    def parse(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, bool):
            raise InvalidDate
        if isinstance(value, (int, float, Decimal)):
            return from_serial(value)
        if not isinstance(value, str):
            raise InvalidDate
        return self.parse_text(value.strip())

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def parse_text(self, text: str) -> dt.date:
        parsed = _parse_text(text, self.order)
        if parsed is None:
            raise InvalidDate
        return parsed


@functools.lru_cache(maxsize=4096)  # statements repeat the same dates row after row
def _parse_text(text: str, order: str) -> dt.date | None:
    try:
        return _parse_uncached(text, order)
    except InvalidDate:
        return None


def _parse_uncached(text: str, order: str) -> dt.date:
    if match := ISO.match(text):
        return _make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := NUMERIC.match(text):
        first, second, year = int(match.group(1)), int(match.group(3)), _year(match.group(4))
        day, month = (second, first) if order == "mdy" else (first, second)
        return _make(year, month, day)
    if match := COMPACT.match(text):
        return _make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := TEXT_DMY.match(text):
        month = month_number(match.group(2))
        if month:
            return _make(_year(match.group(3)), month, int(match.group(1)))
    if match := TEXT_MDY.match(text):
        month = month_number(match.group(1))
        if month:
            return _make(int(match.group(3)), month, int(match.group(2)))
    if re.fullmatch(r"\d{5}(?:\.0+)?", text):
        return from_serial(float(text))
    raise InvalidDate


def from_serial(value: int | float | Decimal) -> dt.date:
    """An Excel serial day number (1900 system) as a date; only plausible statement dates."""
    number = float(value)
    if not SERIAL_MIN <= number <= SERIAL_MAX:
        raise InvalidDate
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


def looks_like_date(value: Any) -> bool:
    """For header and column detection: a real date, or text in a date shape (not a bare number)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    if ISO.match(text) or NUMERIC.match(text):
        return True
    for pattern, group in ((TEXT_DMY, 2), (TEXT_MDY, 1)):
        match = pattern.match(text)
        if match and month_number(match.group(group)):
            return True
    return False
