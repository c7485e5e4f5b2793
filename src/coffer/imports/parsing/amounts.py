"""Amounts as Decimal (never float), with the decimal mark decided per column.

`AmountColumn.from_sample(values)` decides whether "," or "." is the decimal mark: a value
holding both marks proves it (the last one is the decimal mark: "2.853,58", "2,853.58"); a
single mark followed by other than exactly three digits proves it too ("12,5", "-78,16").
`AmountColumn.parse(value)` handles currency symbols and codes, spaces and apostrophes as
thousands separators, leading/trailing minus, parentheses, and CR/DR (DR = outflow).
Spreadsheet floats become Decimal(repr(value)) rounded to 4 places.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

PLACES = Decimal("0.0001")
LIMIT = Decimal(10) ** 15  # numeric(19,4)

_SYMBOLS = "€$£¥₹₽₺₩₪₫₴₦฿"
_CODE = re.compile(r"^([A-Z]{3})\s*|\s*([A-Z]{3})$")
_MARKERS = re.compile(r"\s*\b(CR|DR|Cr|Dr|cr|dr|H|S)\.?$")
_DIGITS = re.compile(r"^\d+(?:\.\d+)?$|^\.\d+$")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'’")
_PLAIN = {".": re.compile(r"^-?\d{1,15}(?:\.\d{1,4})?$"), ",": re.compile(r"^-?\d{1,15}(?:,\d{1,4})?$")}
_MINUS = str.maketrans({"−": "-", "–": "-", "—": "-"})


class InvalidAmount(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class AmountColumn:
    decimal_mark: str = "."

    @classmethod
    def from_sample(cls, values: Iterable[Any]) -> AmountColumn:
        votes = {".": 0, ",": 0}
        for value in values:
            if not isinstance(value, str):
                continue
            mark = _proven_decimal_mark(_strip_decorations(value)[0])
            if mark:
                votes[mark] += 1
        return cls(decimal_mark="," if votes[","] > votes["."] else ".")

    @property
    def thousands_mark(self) -> str:
        return "." if self.decimal_mark == "," else ","

    def example(self) -> str:
        return "-1.234,56" if self.decimal_mark == "," else "-1,234.56"

    def parse(self, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise InvalidAmount
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, int):
            amount = Decimal(value)
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise InvalidAmount
            amount = Decimal(repr(value)).quantize(PLACES, rounding=ROUND_HALF_EVEN)
        elif isinstance(value, str):
            amount = self.parse_text(value)
        else:
            raise InvalidAmount
        return _bounded(amount)

    def parse_text(self, text: str) -> Decimal:
        plain = _PLAIN[self.decimal_mark].match(text)
        if plain:  # the common case, without decorations
            return Decimal(text.replace(",", ".") if self.decimal_mark == "," else text)
        body, negative = _strip_decorations(text)
        body = body.translate(_SPACES)
        if not body:
            raise InvalidAmount
        if self.thousands_mark in body:
            groups = body.split(self.decimal_mark)[0].split(self.thousands_mark)
            if any(not g.isdigit() for g in groups) or any(len(g) != 3 for g in groups[1:]):
                raise InvalidAmount
            body = body.replace(self.thousands_mark, "")
        body = body.replace(self.decimal_mark, ".")
        if not _DIGITS.match(body):
            raise InvalidAmount
        try:
            amount = Decimal(body)
        except InvalidOperation:
            raise InvalidAmount from None
        if amount.as_tuple().exponent < -4 and amount != amount.quantize(PLACES):
            raise InvalidAmount
        return -amount if negative else amount


def _strip_decorations(text: str) -> tuple[str, bool]:
    """Remove signs, currency, CR/DR and parentheses; return the bare number text and its sign."""
    body = text.strip().translate(_MINUS)
    negative = False
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), True
    marker = _MARKERS.search(body)
    if marker:
        word = marker.group(1).upper()
        negative = negative or word in ("DR", "S")  # S = Soll (debit) in German exports
        body = body[: marker.start()].strip()
    body = body.strip(_SYMBOLS + " \u00a0")
    code = _CODE.search(body)
    if code:
        body = (body[: code.start()] + body[code.end():]).strip()
    body = body.strip(_SYMBOLS + " \u00a0")
    if body.startswith("+"):
        body = body[1:].strip()
    elif body.startswith("-"):
        body, negative = body[1:].strip(), not negative
    elif body.endswith("-"):
        body, negative = body[:-1].strip(), not negative
    body = body.strip(_SYMBOLS + " \u00a0")
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), not negative
    return body, negative


def _proven_decimal_mark(body: str) -> str | None:
    body = body.translate(_SPACES)
    last_dot, last_comma = body.rfind("."), body.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        return "." if last_dot > last_comma else ","
    for mark in (".", ","):
        if body.count(mark) == 1:
            decimals = body.split(mark)[1]
            if decimals.isdigit() and len(decimals) != 3:
                return mark
    return None


def _bounded(amount: Decimal) -> Decimal:
    if not amount.is_finite() or abs(amount) >= LIMIT:
        raise InvalidAmount
    return amount


def looks_like_amount(value: Any) -> bool:
    """For column detection: a number cell, or text that parses as an amount in either locale."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, Decimal)):
        return True
    if not isinstance(value, str) or not any(c.isdigit() for c in value):
        return False
    for column in (AmountColumn("."), AmountColumn(",")):
        try:
            column.parse_text(value)
            return True
        except InvalidAmount:
            continue
    return False
