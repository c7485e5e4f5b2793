"""Expected recurring fees of an account (issue 6, fees): services that change them (admins and owners, one
transaction and one audit entry each) and the fee check.

The check walks the calendar months, quarters or years of each expected fee that overlap [date_from, date_to]
and looks for its fee transactions: money out of the fee's account booked in the period (widened by
`day_tolerance` days on both sides) that is in the fee's category (without one: in the "Fees & charges" tree)
or whose description contains the fee's name. Status per period: "missing" (none found), "differs" (what was
charged, the negated sum, is not the expected amount) or "ok". It runs two queries whatever the number of fees
and periods.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from coffer import errors, money
from coffer.audit import services as audit_services
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger.models import Account, Category, ExpectedFee, Transaction
from coffer.tenancy.models import Tenant, User

FEES_PARENT = "Fees & charges"
MAX_EXPECTED_FEES_PER_TENANT = 100
MAX_DAY_TOLERANCE = 31
MAX_CHECK_DAYS = 3 * 366
NAME_MAX = 120
FEE_FIELDS = ["account", "name", "category", "amount", "frequency", "day_tolerance"]
FEE_EDITABLE = {"name", "category_id", "amount", "frequency", "day_tolerance"}


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _field_error(message: str, field: str) -> errors.ValidationError:
    return errors.ValidationError(message, field_errors={field: message})


def _clean_name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise _field_error("An expected fee needs a name", "name")
    if len(name) > NAME_MAX:
        raise _field_error(f"A name has at most {NAME_MAX} characters", "name")
    return name


def _clean_amount(value: Any) -> Decimal:
    amount = money.clean_amount(value)
    if amount <= 0:
        raise _field_error("An expected fee's amount is above zero (what is charged)", "amount")
    return amount


def _clean_frequency(value: Any) -> str:
    if value not in ExpectedFee.Frequency.values:
        raise _field_error(f"One of {', '.join(ExpectedFee.Frequency.values)}", "frequency")
    return value


def _clean_tolerance(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAY_TOLERANCE:
        raise _field_error(f"A whole number of days from 0 to {MAX_DAY_TOLERANCE}", "day_tolerance")
    return value


def _account(*, tenant: Tenant, account_id: Any) -> Account:
    account_uuid = _uuid(account_id)
    account = Account.objects.filter(tenant=tenant, pk=account_uuid).first() if account_uuid else None
    if account is None:
        raise _field_error("No such account in this tenant", "account_id")
    return account


def _category(*, tenant: Tenant, category_id: Any) -> Category | None:
    if category_id is None:
        return None
    category_uuid = _uuid(category_id)
    category = Category.objects.filter(tenant=tenant, pk=category_uuid).first() if category_uuid else None
    if category is None:
        raise _field_error("No such category in this tenant", "category_id")
    if category.kind != Category.Kind.EXPENSE:
        raise _field_error("A fee's category is an expense category", "category_id")
    return category


def expected_fee_create(
    *, tenant: Tenant, actor: User | None, account_id: Any, name: str, amount: Decimal | str,
    frequency: str = ExpectedFee.Frequency.MONTHLY, category_id: Any = None, day_tolerance: int = 0,
) -> ExpectedFee:
    fee = ExpectedFee(
        tenant=tenant, name=_clean_name(name), amount=_clean_amount(amount), frequency=_clean_frequency(frequency),
        day_tolerance=_clean_tolerance(day_tolerance),
    )
    with transaction.atomic():
        fee.account = _account(tenant=tenant, account_id=account_id)
        fee.category = _category(tenant=tenant, category_id=category_id)
        if ExpectedFee.objects.filter(tenant=tenant).count() >= MAX_EXPECTED_FEES_PER_TENANT:
            raise errors.Conflict(f"A tenant has at most {MAX_EXPECTED_FEES_PER_TENANT} expected fees; delete some first")
        fee.save(force_insert=True)
        audit_services.audit_record(tenant=tenant, actor=actor, action="expected_fee.create", instance=fee,
                                    changes=audit_services.created_changes(fee, FEE_FIELDS))
    return fee


def _fee_in_tenant(*, tenant: Tenant, fee_id: Any, lock: bool = False) -> ExpectedFee:
    fee_uuid = _uuid(fee_id)
    rows = ExpectedFee.objects.select_related("account", "category").filter(tenant=tenant, pk=fee_uuid)
    if lock:
        rows = rows.select_for_update(of=("self",))
    fee = rows.first() if fee_uuid else None
    if fee is None:
        raise errors.NotFound("No such expected fee")
    return fee


def expected_fee_update(*, tenant: Tenant, actor: User | None, fee_id: Any, changes: dict[str, Any]) -> ExpectedFee:
    """Change the name, category, amount, frequency or day tolerance; a no-op writes nothing."""
    unknown = sorted(set(changes) - FEE_EDITABLE)
    if unknown:
        raise _field_error(f"Not something you can change: {', '.join(unknown)}", unknown[0])
    with transaction.atomic():
        fee = _fee_in_tenant(tenant=tenant, fee_id=fee_id, lock=True)
        before = audit_services.snapshot(fee, FEE_FIELDS)
        if "name" in changes:
            fee.name = _clean_name(changes["name"])
        if "category_id" in changes:
            fee.category = _category(tenant=tenant, category_id=changes["category_id"])
        if "amount" in changes:
            fee.amount = _clean_amount(changes["amount"])
        if "frequency" in changes:
            fee.frequency = _clean_frequency(changes["frequency"])
        if "day_tolerance" in changes:
            fee.day_tolerance = _clean_tolerance(changes["day_tolerance"])
        diff = audit_services.diff(before, audit_services.snapshot(fee, FEE_FIELDS))
        if not diff:
            return fee
        fee.save()
        audit_services.audit_record(tenant=tenant, actor=actor, action="expected_fee.update", instance=fee,
                                    changes=diff)
    return fee


def expected_fee_delete(*, tenant: Tenant, actor: User | None, fee_id: Any) -> None:
    with transaction.atomic():
        fee = _fee_in_tenant(tenant=tenant, fee_id=fee_id, lock=True)
        audit_services.audit_record(tenant=tenant, actor=actor, action="expected_fee.delete", instance=fee,
                                    changes=audit_services.deleted_changes(fee, FEE_FIELDS))
        ExpectedFee.objects.filter(tenant=tenant, pk=fee.pk).delete()


# --- selectors ----------------------------------------------------------------------------------------


def expected_fee_get(*, tenant: Tenant, fee_id: Any) -> ExpectedFee:
    return _fee_in_tenant(tenant=tenant, fee_id=fee_id)


def expected_fee_list(*, tenant: Tenant, account_id: Any = None) -> list[ExpectedFee]:
    """Every expected fee of the tenant (at most MAX_EXPECTED_FEES_PER_TENANT), by account and name."""
    rows = ExpectedFee.objects.select_related("account", "category").filter(tenant=tenant)
    if account_id is not None:
        rows = rows.filter(account_id=_uuid(account_id))
    return list(rows.order_by("account__name", "name", "id")[:MAX_EXPECTED_FEES_PER_TENANT])


def fees_category_ids(tenant: Tenant) -> models.QuerySet:
    """The "Fees & charges" category of the tenant and its subcategories (a subquery)."""
    return Category.objects.filter(
        models.Q(parent__isnull=True, name__iexact=FEES_PARENT) | models.Q(parent__name__iexact=FEES_PARENT),
        tenant=tenant,
    ).values("pk")


@dataclasses.dataclass(frozen=True)
class FeePeriod:
    fee: ExpectedFee
    period_start: dt.date
    period_end: dt.date
    expected: Decimal
    charged: Decimal
    count: int
    status: str  # "ok" | "missing" | "differs"


def _periods(frequency: str, date_from: dt.date, date_to: dt.date) -> list[tuple[dt.date, dt.date]]:
    periods, day = [], date_from
    while day <= date_to:
        start, end = ledger_budgets.period_bounds(frequency, day)
        periods.append((start, end))
        day = end + dt.timedelta(days=1)
    return periods


def fee_check(*, tenant: Tenant, date_from: dt.date, date_to: dt.date, fee_id: Any = None) -> list[FeePeriod]:
    """Each expected fee (or one) per period overlapping [date_from, date_to]: missing, differs or ok."""
    if date_from > date_to:
        raise _field_error("date_from is after date_to", "date_from")
    if (date_to - date_from).days > MAX_CHECK_DAYS:
        raise _field_error(f"A fee check covers at most {MAX_CHECK_DAYS} days", "date_from")
    fees = [expected_fee_get(tenant=tenant, fee_id=fee_id)] if fee_id is not None else expected_fee_list(tenant=tenant)
    if not fees:
        return []
    plans = {fee.pk: _periods(fee.frequency, date_from, date_to) for fee in fees}
    first = min(periods[0][0] - dt.timedelta(days=fee.day_tolerance) for fee in fees for periods in [plans[fee.pk]])
    last = max(periods[-1][1] + dt.timedelta(days=fee.day_tolerance) for fee in fees for periods in [plans[fee.pk]])
    match = models.Q(category_id__in=fees_category_ids(tenant))
    for fee in fees:
        if fee.category_id:
            match |= models.Q(category_id=fee.category_id)
        match |= models.Q(description__icontains=fee.name)
    candidates = list(
        Transaction.objects.filter(
            match, tenant=tenant, account_id__in={fee.account_id for fee in fees}, amount__lt=0,
            booked_on__gte=first, booked_on__lte=last,
        ).values_list("account_id", "booked_on", "amount", "category_id", "description")
    )
    fee_tree = None
    results = []
    for fee in fees:
        name = fee.name.casefold()
        for start, end in plans[fee.pk]:
            low, high = start - dt.timedelta(days=fee.day_tolerance), end + dt.timedelta(days=fee.day_tolerance)
            found = []
            for account_id, booked_on, amount, category_id, description in candidates:
                if account_id != fee.account_id or not low <= booked_on <= high:
                    continue
                if name in description.casefold():
                    found.append(amount)
                    continue
                if fee.category_id is not None:
                    if category_id == fee.category_id:
                        found.append(amount)
                    continue
                if fee_tree is None:
                    fee_tree = {row["pk"] for row in fees_category_ids(tenant)}
                if category_id in fee_tree:
                    found.append(amount)
            charged = -sum(found, Decimal("0"))
            status = "missing" if not found else ("ok" if charged == fee.amount else "differs")
            results.append(FeePeriod(fee=fee, period_start=start, period_end=end, expected=fee.amount,
                                     charged=charged, count=len(found), status=status))
    return results
