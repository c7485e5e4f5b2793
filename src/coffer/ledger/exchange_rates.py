"""A tenant's exchange rates (optional): services, selectors, and the lookup reports convert with.

A rate says 1 `from_currency` = `rate` `to_currency` on `date`. To convert an amount of X into the
tenant's base currency B on a day D, a report uses the latest rate dated on or before D of either
X->B (multiplied) or B->X (divided); when both directions exist the more recent wins, the direct
one on a tie. No rate on or before D: the amount is not converted, and the report says which
currency missed a rate for which day instead of guessing. Converted amounts are rounded half-up
to 4 places.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, models, transaction

from coffer import errors, keyset, money
from coffer.audit import services as audit_services
from coffer.ledger.models import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS, ExchangeRate
from coffer.tenancy.models import Tenant, User

RATE_FIELDS = ["date", "from_currency", "to_currency", "rate"]
RATE_EDITABLE = {"date", "rate"}
MAX_PAGE_SIZE = 100
_RATE_LIMIT = Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES)
_PLACES = Decimal(1).scaleb(-money.AMOUNT_DECIMAL_PLACES)
_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def clean_rate(value: Any) -> Decimal:
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise errors.ValidationError(f"{value!r} is not a number", field_errors={"rate": "Not a number."}) from None
    if not rate.is_finite() or rate <= 0:
        raise errors.ValidationError("A rate is a positive number", field_errors={"rate": "Must be above 0."})
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMAL_PLACES), context=_CONTEXT):
        raise errors.ValidationError(
            f"A rate has at most {RATE_DECIMAL_PLACES} decimal places",
            field_errors={"rate": f"At most {RATE_DECIMAL_PLACES} decimal places."},
        )
    if rate >= _RATE_LIMIT:
        raise errors.ValidationError("The rate is too large", field_errors={"rate": "Too large."})
    return rate


def _taken(rate: ExchangeRate) -> errors.Conflict:
    return errors.Conflict(
        f"There is already a {rate.from_currency}->{rate.to_currency} rate for {rate.date}; change that one",
        field_errors={"date": "Already has a rate."},
    )


# --- services ---------------------------------------------------------------


def rate_create(
    *, tenant: Tenant, actor: User, date: dt.date, from_currency: str, to_currency: str, rate: Decimal | str
) -> ExchangeRate:
    if not isinstance(date, dt.date):
        raise errors.ValidationError("date must be a date", field_errors={"date": "Not a date."})
    row = ExchangeRate(
        tenant=tenant, date=date, from_currency=money.clean_currency(from_currency, field="from_currency"),
        to_currency=money.clean_currency(to_currency, field="to_currency"), rate=clean_rate(rate),
    )
    if row.from_currency == row.to_currency:
        raise errors.ValidationError(
            "A rate converts between two different currencies", field_errors={"to_currency": "Same as from_currency."}
        )
    with transaction.atomic():
        if ExchangeRate.objects.filter(tenant=tenant, from_currency=row.from_currency, to_currency=row.to_currency,
                                       date=row.date).exists():
            raise _taken(row)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            raise _taken(row) from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="exchange_rate.create", instance=row,
                                    changes=audit_services.created_changes(row, RATE_FIELDS))
    return row


def _locked(*, tenant: Tenant, rate_id: Any) -> ExchangeRate:
    rate_uuid = _uuid(rate_id)
    row = ExchangeRate.objects.select_for_update().filter(tenant=tenant, pk=rate_uuid).first() if rate_uuid else None
    if row is None:
        raise errors.NotFound("No such exchange rate")
    return row


def rate_update(*, tenant: Tenant, actor: User, rate_id: Any, changes: dict[str, Any]) -> ExchangeRate:
    """Change the rate or its date (the currencies are the rate's identity: delete and create instead)."""
    unknown = sorted(set(changes) - RATE_EDITABLE)
    if unknown:
        raise errors.ValidationError(f"Unknown fields: {', '.join(unknown)}", field_errors={f: "Unknown field." for f in unknown})
    with transaction.atomic():
        row = _locked(tenant=tenant, rate_id=rate_id)
        before = audit_services.snapshot(row, RATE_FIELDS)
        if "rate" in changes:
            row.rate = clean_rate(changes["rate"])
        if "date" in changes:
            if not isinstance(changes["date"], dt.date):
                raise errors.ValidationError("date must be a date", field_errors={"date": "Not a date."})
            row.date = changes["date"]
        diff = audit_services.diff(before, audit_services.snapshot(row, RATE_FIELDS))
        if not diff:
            return row
        if "date" in diff and ExchangeRate.objects.filter(
            tenant=tenant, from_currency=row.from_currency, to_currency=row.to_currency, date=row.date
        ).exclude(pk=row.pk).exists():
            raise _taken(row)
        try:
            with transaction.atomic():
                row.save(update_fields=[*diff, "updated_at"])
        except IntegrityError:
            raise _taken(row) from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="exchange_rate.update", instance=row, changes=diff)
    return row


def rate_delete(*, tenant: Tenant, actor: User, rate_id: Any) -> None:
    with transaction.atomic():
        row = _locked(tenant=tenant, rate_id=rate_id)
        audit_services.audit_record(tenant=tenant, actor=actor, action="exchange_rate.delete", instance=row,
                                    changes=audit_services.deleted_changes(row, RATE_FIELDS))
        ExchangeRate.objects.filter(tenant=tenant, pk=row.pk).delete()


# --- selectors --------------------------------------------------------------


def rate_get(*, tenant: Tenant, rate_id: Any) -> ExchangeRate:
    rate_uuid = _uuid(rate_id)
    row = ExchangeRate.objects.filter(tenant=tenant, pk=rate_uuid).first() if rate_uuid else None
    if row is None:
        raise errors.NotFound("No such exchange rate")
    return row


def rate_page(
    *, tenant: Tenant, limit: int, after: list[str] | None = None, currency: str | None = None
) -> tuple[list[ExchangeRate], list[str] | None]:
    """Rates newest first (date, then id); `currency` keeps those from or to that currency."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."}
        )
    queryset = ExchangeRate.objects.filter(tenant=tenant)
    if currency:
        code = money.clean_currency(currency)
        queryset = queryset.filter(models.Q(from_currency=code) | models.Q(to_currency=code))
    if after is not None:
        try:
            day, last = dt.date.fromisoformat(after[0]), _uuid(after[1])
        except (ValueError, IndexError, TypeError):
            last = None
        if len(after) != 2 or last is None:
            raise errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})
        queryset = queryset.filter(keyset.after_cursor("date", day, last, id_field="pk"))
    rows = list(queryset.order_by("-date", "-pk")[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, [rows[-1].date.isoformat(), str(rows[-1].pk)]
    return rows, None


# --- conversion -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RateUsed:
    """The rate that converted `currency` into `base` for amounts of the day `on`."""

    currency: str
    base: str
    on: dt.date  # the day the conversion was for
    rate_date: dt.date  # the date of the stored rate (on or before `on`)
    rate: Decimal  # as stored
    inverse: bool  # the stored rate is base->currency, so amounts were divided by it

    def convert(self, amount: Decimal) -> Decimal:
        value = _CONTEXT.divide(amount, self.rate) if self.inverse else _CONTEXT.multiply(amount, self.rate)
        return value.quantize(_PLACES, context=_CONTEXT)


def rates_for(
    *, tenant: Tenant, base: str, wanted: Iterable[tuple[str, dt.date]]
) -> dict[tuple[str, dt.date], RateUsed | None]:
    """For each (currency, day) the rate into `base` that applies (see the module), or None. One query: for
    each wanted pair and direction a subquery picks the latest stored rate on or before the day."""
    pairs = sorted({(currency, day) for currency, day in wanted if currency != base})
    if not pairs:
        return {}
    own = ExchangeRate.objects.filter(tenant=tenant)
    picks = []
    for currency, day in pairs:
        for source, target in ((currency, base), (base, currency)):
            picks.append(models.Subquery(
                own.filter(from_currency=source, to_currency=target, date__lte=day).order_by("-date").values("pk")[:1]
            ))
    found = list(own.filter(pk__in=picks).values_list("from_currency", "to_currency", "date", "rate"))
    result: dict[tuple[str, dt.date], RateUsed | None] = {}
    for currency, day in pairs:
        best = None
        for source, target, rate_date, rate in found:
            inverse = source == base
            if {source, target} != {currency, base} or rate_date > day:
                continue
            # the latest date wins; on a tie the direct rate
            if best is None or (rate_date, not inverse) > (best.rate_date, not best.inverse):
                best = RateUsed(currency=currency, base=base, on=day, rate_date=rate_date, rate=rate, inverse=inverse)
        result[(currency, day)] = best
    return result
