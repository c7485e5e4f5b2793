"""Money rules shared by every app: Decimal amounts of at most 4 places, ISO 4217 codes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pycountry

from coffer import errors

AMOUNT_MAX_DIGITS = 19
AMOUNT_DECIMAL_PLACES = 4
_AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES)

_CURRENCY_CODES = frozenset(currency.alpha_3 for currency in pycountry.currencies)


def is_currency(code: str) -> bool:
    return code in _CURRENCY_CODES


def clean_currency(code: str, *, field: str = "currency") -> str:
    normalized = (code or "").strip().upper()
    if not is_currency(normalized):
        raise errors.ValidationError(
            f"{code!r} is not an ISO 4217 currency code", field_errors={field: "Use an ISO 4217 code such as EUR or USD."}
        )
    return normalized


def clean_amount(value: Decimal | str | int, *, field: str = "amount") -> Decimal:
    """Return the amount as a Decimal, refusing floats' cousins: NaN, infinities, >4 places."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise errors.ValidationError(f"{value!r} is not a number", field_errors={field: "Not a number."}) from None
    if not amount.is_finite():
        raise errors.ValidationError("Amount must be a finite number", field_errors={field: "Not a finite number."})
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -AMOUNT_DECIMAL_PLACES and amount != amount.quantize(Decimal("0.0001")):
        raise errors.ValidationError(
            f"{value} has more than {AMOUNT_DECIMAL_PLACES} decimal places",
            field_errors={field: f"At most {AMOUNT_DECIMAL_PLACES} decimal places."},
        )
    if abs(amount) >= _AMOUNT_LIMIT:
        raise errors.ValidationError("Amount is too large", field_errors={field: "Too large."})
    return amount.quantize(Decimal("0.0001"))


_PLACES = Decimal(1).scaleb(-AMOUNT_DECIMAL_PLACES)


def stored(total: Decimal | None) -> Decimal:
    """A database SUM as the ledger stores money: None is zero, and exactly 4 places. SQLite
    keeps decimal columns as floating point, so its sums come back as -7572.4500000000013."""
    return Decimal("0").quantize(_PLACES) if total is None else total.quantize(_PLACES)
