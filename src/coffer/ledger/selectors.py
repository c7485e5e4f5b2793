"""Reading accounts and transactions: tenant-scoped, bounded, keyset-paginated.

A page is fetched as `limit + 1` rows ordered by (sort value, id); the extra row only
tells whether there is a next page. The next page's key is a list of strings that the
API layer turns into an opaque cursor and hands back as `after`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.db.models.functions import Lower

from coffer import errors, keyset, money
from coffer.ledger import defaults
from coffer.ledger.models import Account, Category, Tag, Transaction, TransactionTag
from coffer.tenancy.models import Tenant

MAX_PAGE_SIZE = 100

TRANSACTION_SORTS = ("-booked_on", "booked_on", "-amount", "amount")

_BAD_CURSOR = errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."}
        )


def _keyset(queryset: models.QuerySet, *, field: str, descending: bool, after: tuple[Any, uuid.UUID] | None,
            limit: int) -> tuple[list, Any]:
    """One page ordered by (field, id), both ascending or both descending; returns (rows, last row or None)."""
    if after is not None:
        value, last_id = after
        queryset = queryset.filter(keyset.after_cursor(field, value, last_id, descending=descending))
    prefix = "-" if descending else ""
    rows = list(queryset.order_by(f"{prefix}{field}", f"{prefix}id")[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1]
    return rows, None


# --- accounts -------------------------------------------------------------


def account_get(*, tenant: Tenant, account_id: uuid.UUID | str) -> Account:
    account_uuid = _uuid(account_id)
    account = Account.objects.filter(tenant=tenant, pk=account_uuid).first() if account_uuid else None
    if account is None:
        raise errors.NotFound("No such account")
    return account


def account_page(*, tenant: Tenant, limit: int, include_archived: bool = False,
                 after: list[str] | None = None) -> tuple[list[Account], list[str] | None]:
    """Accounts by name; archived ones only when asked for."""
    _check_limit(limit)
    queryset = Account.objects.filter(tenant=tenant)
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    key = None
    if after is not None:
        if len(after) != 2 or _uuid(after[1]) is None:
            raise _BAD_CURSOR
        key = (after[0], _uuid(after[1]))
    rows, last = _keyset(queryset, field="name", descending=False, after=key, limit=limit)
    return rows, ([last.name, str(last.pk)] if last else None)


def account_balance_recomputed(account: Account) -> Decimal:
    """opening_balance + SUM(amount), from the rows themselves (for tests and ops checks of `balance`)."""
    opening = Account.objects.filter(pk=account.pk).values_list("opening_balance", flat=True).get()
    total = Transaction.objects.filter(tenant_id=account.tenant_id, account_id=account.pk).aggregate(
        total=models.Sum("amount")
    )["total"]
    return opening + money.stored(total)


# --- transactions ---------------------------------------------------------


UNCATEGORIZED = "uncategorized"


def _with_tags(queryset: models.QuerySet) -> models.QuerySet:
    """Tags in one extra query per page (never one per row), by name."""
    return queryset.prefetch_related(models.Prefetch("tags", queryset=Tag.objects.order_by(Lower("name"), "id")))


def transaction_get(*, tenant: Tenant, transaction_id: uuid.UUID | str) -> Transaction:
    transaction_uuid = _uuid(transaction_id)
    found = (
        _with_tags(Transaction.objects.select_related("account")).filter(tenant=tenant, pk=transaction_uuid).first()
        if transaction_uuid
        else None
    )
    if found is None:
        raise errors.NotFound("No such transaction")
    return found


def _transaction_after(sort: str, after: list[str]) -> tuple[Any, uuid.UUID]:
    if len(after) != 3 or after[0] != sort or _uuid(after[2]) is None:
        raise _BAD_CURSOR
    try:
        value = dt.date.fromisoformat(after[1]) if sort.lstrip("-") == "booked_on" else Decimal(after[1])
    except (ValueError, InvalidOperation):
        raise _BAD_CURSOR from None
    if isinstance(value, Decimal) and not value.is_finite():
        raise _BAD_CURSOR
    return value, _uuid(after[2])


def transaction_page(
    *, tenant: Tenant, limit: int, sort: str = "-booked_on", after: list[str] | None = None,
    account_id: uuid.UUID | None = None, booked_from: dt.date | None = None, booked_to: dt.date | None = None,
    amount_min: Decimal | None = None, amount_max: Decimal | None = None, text: str = "",
    category: str | uuid.UUID | None = None, tag: str | None = None,
) -> tuple[list[Transaction], list[str] | None]:
    """Transactions matching the filters, one page in the given order (ties broken by id).

    `category`: a category id (a top-level category includes its subcategories) or "uncategorized";
    `tag`: a tag name (case-insensitive). Ids and names of other tenants match nothing.
    """
    _check_limit(limit)
    if sort not in TRANSACTION_SORTS:
        raise errors.ValidationError(f"Unknown sort {sort!r}", field_errors={"sort": f"One of {', '.join(TRANSACTION_SORTS)}."})
    if booked_from and booked_to and booked_from > booked_to:
        raise errors.ValidationError("booked_from is after booked_to", field_errors={"booked_from": "After booked_to."})
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        raise errors.ValidationError("amount_min is above amount_max", field_errors={"amount_min": "Above amount_max."})

    queryset = _with_tags(Transaction.objects.filter(tenant=tenant).select_related("account"))
    if category is not None and str(category).strip():
        if category == UNCATEGORIZED:
            queryset = queryset.filter(category__isnull=True)
        else:
            category_uuid = _uuid(category)
            if category_uuid is None:
                raise errors.ValidationError(
                    "category is a category id or 'uncategorized'",
                    field_errors={"category": "A category id or 'uncategorized'."},
                )
            in_tree = Category.objects.filter(tenant=tenant).filter(
                models.Q(pk=category_uuid) | models.Q(parent_id=category_uuid)
            )
            queryset = queryset.filter(category_id__in=in_tree.values("pk"))
    if tag is not None and tag.strip():
        tags = Tag.objects.filter(tenant=tenant, name__iexact=" ".join(tag.split()))
        queryset = queryset.filter(models.Exists(
            TransactionTag.objects.filter(tenant=tenant, tag_id__in=tags.values("pk"), transaction_id=models.OuterRef("pk"))
        ))
    if account_id is not None:
        queryset = queryset.filter(account_id=account_id)
    if booked_from is not None:
        queryset = queryset.filter(booked_on__gte=booked_from)
    if booked_to is not None:
        queryset = queryset.filter(booked_on__lte=booked_to)
    if amount_min is not None:
        queryset = queryset.filter(amount__gte=amount_min)
    if amount_max is not None:
        queryset = queryset.filter(amount__lte=amount_max)
    if text:
        queryset = queryset.filter(
            models.Q(description__icontains=text) | models.Q(counterparty__icontains=text)
            | models.Q(reference__icontains=text)
        )

    field = sort.lstrip("-")
    key = _transaction_after(sort, after) if after is not None else None
    rows, last = _keyset(queryset, field=field, descending=sort.startswith("-"), after=key, limit=limit)
    next_key = [sort, str(getattr(last, field)), str(last.pk)] if last else None
    return rows, next_key


# --- categories -----------------------------------------------------------


def category_get(*, tenant: Tenant, category_id: uuid.UUID | str) -> Category:
    category_uuid = _uuid(category_id)
    found = Category.objects.filter(tenant=tenant, pk=category_uuid).first() if category_uuid else None
    if found is None:
        raise errors.NotFound("No such category")
    return found


def category_tree(*, tenant: Tenant, include_archived: bool = False) -> list[Category]:
    """Top-level categories by name, each with `.subcategories` by name; one query, bounded by the
    per-tenant limit. Without `include_archived`, archived ones and those under them are left out."""
    rows = list(
        Category.objects.filter(tenant=tenant).order_by(Lower("name"), "id")[: defaults.MAX_CATEGORIES_PER_TENANT]
    )
    top = [row for row in rows if row.parent_id is None and (include_archived or not row.archived)]
    by_id = {row.pk: row for row in top}
    for row in top:
        row.subcategories = []
    for row in rows:
        if row.parent_id in by_id and (include_archived or not row.archived):
            by_id[row.parent_id].subcategories.append(row)
    return top


# --- tags -----------------------------------------------------------------


def tag_get(*, tenant: Tenant, tag_id: uuid.UUID | str) -> Tag:
    tag_uuid = _uuid(tag_id)
    found = Tag.objects.filter(tenant=tenant, pk=tag_uuid).first() if tag_uuid else None
    if found is None:
        raise errors.NotFound("No such tag")
    return found


def tag_page(*, tenant: Tenant, limit: int, after: list[str] | None = None, text: str = "") -> tuple[list[Tag], list[str] | None]:
    """Tags by name, case-insensitively; `text` keeps those whose name contains it."""
    _check_limit(limit)
    queryset = Tag.objects.filter(tenant=tenant).annotate(sort_name=Lower("name"))
    if text:
        queryset = queryset.filter(name__icontains=text)
    key = None
    if after is not None:
        if len(after) != 2 or _uuid(after[1]) is None:
            raise _BAD_CURSOR
        key = (after[0], _uuid(after[1]))
    rows, last = _keyset(queryset, field="sort_name", descending=False, after=key, limit=limit)
    return rows, ([last.sort_name, str(last.pk)] if last else None)
