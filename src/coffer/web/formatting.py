"""How the web app shows money: two decimals (more only when the amount has them), thin grouping."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | None) -> str:
    if value is None:
        return ""
    places = Decimal("0.01") if value == value.quantize(Decimal("0.01")) else Decimal("0.0001")
    return f"{value.quantize(places):,}"


def plain(value: Decimal | None) -> str:
    """The amount as a form field shows it: "-12.50", not "-12.5000" nor "-1,212.50"."""
    if value is None:
        return ""
    places = Decimal("0.01") if value == value.quantize(Decimal("0.01")) else Decimal("0.0001")
    return str(value.quantize(places))
