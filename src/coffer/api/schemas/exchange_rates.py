"""Exchange rates on the wire: rates are decimal strings like amounts (up to 10 decimal places)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, PlainSerializer, WithJsonSchema

from coffer import errors
from coffer.api.schemas.common import Currency, InSchema, OutSchema
from coffer.ledger import exchange_rates


def _parse_rate(value: Any) -> Decimal:
    if isinstance(value, (bool, float)):
        raise ValueError('send rates as decimal strings, e.g. "1.0850", never as floating-point numbers')
    if not isinstance(value, (str, int, Decimal)):
        raise ValueError('a rate is a decimal string such as "1.0850"')
    try:
        return exchange_rates.clean_rate(value)
    except errors.ValidationError as exc:
        raise ValueError(exc.message) from None


def format_rate(value: Decimal) -> str:
    """No trailing zeros: "1.085", "150"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_rate_schema = {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,10})?$", "examples": ["1.0850"]}
RateIn = Annotated[Decimal, BeforeValidator(_parse_rate), WithJsonSchema(_rate_schema)]
RateOut = Annotated[Decimal, PlainSerializer(format_rate, return_type=str), WithJsonSchema(_rate_schema)]


class ExchangeRateIn(InSchema):
    """1 `from_currency` = `rate` `to_currency` on `date`."""

    date: dt.date
    from_currency: Currency
    to_currency: Currency
    rate: RateIn


class ExchangeRatePatch(InSchema):
    """The currencies are the rate's identity; delete and create to change them."""

    date: dt.date = None
    rate: RateIn = None


class ExchangeRateOut(OutSchema):
    id: uuid.UUID
    date: dt.date
    from_currency: str
    to_currency: str
    rate: RateOut
    created_at: dt.datetime
    updated_at: dt.datetime


class RateUsedOut(OutSchema):
    """A stored rate a report converted with: amounts of `currency` for the day `on` into `base`, with the
    latest rate dated on or before `on` (`rate_date`); `inverse`: the stored rate is base->currency."""

    currency: str
    base: str
    on: dt.date
    rate_date: dt.date
    rate: RateOut
    inverse: bool


class MissingRateOut(BaseModel):
    currency: str
    on: dt.date


class ConversionOut(BaseModel):
    """Converting into `base`: the rates used, and the days a currency had no rate (then `complete` is false
    and the converted figures are null)."""

    base: str
    complete: bool
    rates: list[RateUsedOut]
    missing: list[MissingRateOut]


def conversion_out(conversion) -> dict | None:
    if conversion is None:
        return None
    return ConversionOut(
        base=conversion.base, complete=conversion.complete,
        rates=[RateUsedOut.model_validate(rate) for rate in conversion.rates],
        missing=[MissingRateOut(currency=currency, on=day) for currency, day in conversion.missing],
    ).model_dump(mode="json")
