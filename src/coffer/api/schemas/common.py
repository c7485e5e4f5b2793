"""Schema building blocks shared by every router."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

from coffer import errors, money


class InSchema(BaseModel):
    """Input: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _parse_money(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError('send amounts as decimal strings, e.g. "-12.50", never as floating-point numbers')
    if not isinstance(value, (str, int, Decimal)):
        raise ValueError('an amount is a decimal string such as "-12.50"')
    try:
        return money.clean_amount(value)
    except errors.ValidationError as exc:
        raise ValueError(exc.message) from None


def format_money(value: Decimal) -> str:
    """At least two decimals, at most four: '12.50', '0.0125'."""
    two = value.quantize(Decimal("0.01"))
    if two == value:
        return f"{two:f}"
    return f"{value.quantize(Decimal('0.0001')):f}".rstrip("0")


_money_schema = {"type": "string", "pattern": r"^-?\d{1,15}(\.\d{1,4})?$", "examples": ["-12.50"]}

MoneyIn = Annotated[Decimal, BeforeValidator(_parse_money), WithJsonSchema(_money_schema)]
MoneyOut = Annotated[Decimal, PlainSerializer(format_money, return_type=str), WithJsonSchema(_money_schema)]


def _parse_currency(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a currency is a three-letter ISO 4217 code such as EUR")
    code = value.strip().upper()
    if not money.is_currency(code):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str,
    BeforeValidator(_parse_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["EUR"]}),
]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list. `next` is an opaque cursor; absent on the last page."""

    items: list[T]
    next: str | None = None
