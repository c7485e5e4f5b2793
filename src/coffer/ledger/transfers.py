"""Transfers: money moved between two of a tenant's own accounts, counted in no income or expense total.

A transfer is two transactions that point at each other through `Transaction.transfer_pair`: the
outflow (negative amount) from one account and the inflow (positive) into another.

`detect` links a pair when, and only when, all of these hold:

- two different accounts of the tenant in the same currency;
- exactly opposite amounts (-250.00 and 250.00);
- booked within DETECT_WINDOW_DAYS days of each other, in either order;
- neither is linked yet, and a person has not unlinked these two before (TransferDismissal);
- the match is unambiguous: the outflow has exactly one such inflow and the inflow exactly one
  such outflow (two equal transfers in the same few days are left for a person to link).

Pairs across currencies are never guessed (amounts differ by a rate nobody recorded); a person
links them by hand, with any amounts of opposite signs. Within one currency a hand-made link needs
opposite amounts too: a fee taken on the way is its own transaction, so totals stay honest.

Reports leave out every linked transaction, and every transaction in a category of kind
"transfer" (money moved to an account Coffer does not hold is classified that way by hand).
`COUNTED`, `INCOME_SIDE` and `EXPENSE_SIDE` are those rules as query conditions, used by every
income/expense aggregate (insights.selectors, insights.reports, ledger.budgets):

- income: categories of kind income, and uncategorized positive amounts;
- expenses: categories of kind expense, and uncategorized negative amounts; a refund (a positive
  amount in an expense category) therefore reduces spending, and income minus expenses is the sum.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Cast

from coffer import errors, keyset
from coffer.audit import services as audit_services
from coffer.ledger.models import Category, Transaction, TransferDismissal
from coffer.ops import tenant_cache
from coffer.tenancy.models import Tenant, User

DETECT_WINDOW_DAYS = 4
_CHUNK = 500

# Rows that count as income or expense: not linked as a transfer, not in a transfer category.
COUNTED = models.Q(transfer_pair__isnull=True) & (
    models.Q(category__isnull=True) | ~models.Q(category__kind=Category.Kind.TRANSFER)
)
INCOME_SIDE = models.Q(category__kind=Category.Kind.INCOME) | models.Q(category__isnull=True, amount__gt=0)
EXPENSE_SIDE = models.Q(category__kind=Category.Kind.EXPENSE) | models.Q(category__isnull=True, amount__lt=0)


def counted(queryset: models.QuerySet) -> models.QuerySet:
    """The transactions of `queryset` that count as income or expense."""
    return queryset.filter(COUNTED)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


# --- detection --------------------------------------------------------------


def _window(field: Any, days: int) -> tuple[Cast, Cast]:
    """[field - days, field + days] as dates on every backend (SQLite's date arithmetic returns text)."""
    delta = dt.timedelta(days=days)
    return Cast(field - delta, models.DateField()), Cast(field + delta, models.DateField())


def _partners(*, side: str) -> models.QuerySet:
    """For the row of the outer query, its free partners of the other `side` ("inflow" or "outflow")."""
    low, high = _window(models.OuterRef("booked_on"), DETECT_WINDOW_DAYS)
    partners = (
        Transaction.objects.filter(
            tenant_id=models.OuterRef("tenant_id"), transfer_pair__isnull=True,
            account__currency=models.OuterRef("account__currency"), amount=-models.OuterRef("amount"),
            booked_on__gte=low, booked_on__lte=high,
        )
        .exclude(account_id=models.OuterRef("account_id"))
    )
    if side == "inflow":
        dismissed = TransferDismissal.objects.filter(
            tenant_id=models.OuterRef(models.OuterRef("tenant_id")), outflow_id=models.OuterRef(models.OuterRef("pk")),
            inflow_id=models.OuterRef("pk"),
        )
    else:
        dismissed = TransferDismissal.objects.filter(
            tenant_id=models.OuterRef(models.OuterRef("tenant_id")), inflow_id=models.OuterRef(models.OuterRef("pk")),
            outflow_id=models.OuterRef("pk"),
        )
    return partners.filter(~models.Exists(dismissed)).order_by("booked_on", "pk").values("pk")


def _unique_partner(queryset: models.QuerySet, *, side: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(pk, partner pk) of the rows of `queryset` that have exactly one free partner. Rows without any
    are dropped by one indexed probe each (tenant, amount); only candidates get their first two looked up."""
    partners = _partners(side=side)
    rows = (
        queryset.filter(models.Exists(partners))
        .annotate(first=models.Subquery(partners[:1]), second=models.Subquery(partners[1:2]))
        .values_list("pk", "first", "second")
    )
    return [(pk, first) for pk, first, second in rows if second is None]


def candidate_pairs(*, tenant: Tenant, since: dt.date | None = None) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(outflow id, inflow id) of the pairs `detect` would link, oldest outflow first. Matching runs in
    the database: one query for the outflows, one per 500 matched inflows to check they match back."""
    outflows = Transaction.objects.filter(tenant=tenant, amount__lt=0, transfer_pair__isnull=True)
    if since is not None:
        # An inflow on or after `since` may answer an outflow booked a few days before it.
        outflows = outflows.filter(booked_on__gte=since - dt.timedelta(days=DETECT_WINDOW_DAYS))
    forward = _unique_partner(outflows.order_by("booked_on", "pk"), side="inflow")
    pairs = []
    for start in range(0, len(forward), _CHUNK):
        chunk = forward[start:start + _CHUNK]
        inflows = Transaction.objects.filter(tenant=tenant, pk__in=[inflow for _, inflow in chunk])
        back = dict(_unique_partner(inflows, side="outflow"))
        pairs += [(outflow, inflow) for outflow, inflow in chunk if back.get(inflow) == outflow]
    return pairs


def _link_rows(*, tenant: Tenant, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Point each pair at each other, skipping rows that got linked meanwhile (locked first, in id order)."""
    linked = []
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start:start + _CHUNK]
        ids = [pk for pair in chunk for pk in pair]
        free = set(
            Transaction.objects.select_for_update().filter(tenant=tenant, pk__in=ids, transfer_pair__isnull=True)
            .order_by("pk").values_list("pk", flat=True)
        )
        chunk = [(a, b) for a, b in chunk if a in free and b in free]
        if not chunk:
            continue
        partner = {a: b for a, b in chunk} | {b: a for a, b in chunk}
        tenant_cache.bump(tenant.pk)
        Transaction.objects.filter(tenant=tenant, pk__in=list(partner)).update(
            transfer_pair=models.Case(*(models.When(pk=pk, then=models.Value(other)) for pk, other in partner.items())),
        )
        linked += chunk
    return linked


def detect(tenant: Tenant, since: dt.date | None = None, *, actor: User | None = None) -> int:
    """Find and link the tenant's transfers (see the module's rules); `since`: only pairs with a side booked
    on or after that day (after an import: its first date). One transaction, one audit entry when something
    was linked; returns how many pairs were linked."""
    with transaction.atomic():
        linked = _link_rows(tenant=tenant, pairs=candidate_pairs(tenant=tenant, since=since))
        if linked:
            audit_services.audit_record(
                tenant=tenant, actor=actor, action="transfer.detect", object_type="transfer", object_id="",
                changes={"pairs": [0, len(linked)], "since": [None, since]},
            )
    return len(linked)


# --- by hand ----------------------------------------------------------------


def _locked(*, tenant: Tenant, ids: list[Any]) -> dict[uuid.UUID, Transaction]:
    found = {_uuid(value) for value in ids} - {None}
    rows = Transaction.objects.select_for_update(of=("self",)).select_related("account").filter(
        tenant=tenant, pk__in=found
    ).order_by("pk")
    return {row.pk: row for row in rows}


def _require(rows: dict[uuid.UUID, Transaction], value: Any) -> Transaction:
    row = rows.get(_uuid(value)) if _uuid(value) else None
    if row is None:
        raise errors.NotFound("No such transaction")
    return row


def link(*, tenant: Tenant, actor: User, transaction_id: Any, pair_id: Any) -> tuple[Transaction, Transaction]:
    """Link two of the tenant's transactions as one transfer by hand; returns (outflow, inflow).

    Different accounts, one amount negative and the other positive; in one currency the amounts must be
    opposite. A pair already linked together is returned as it is; a transaction linked elsewhere is a 409.
    """
    with transaction.atomic():
        rows = _locked(tenant=tenant, ids=[transaction_id, pair_id])
        first, second = _require(rows, transaction_id), _require(rows, pair_id)
        if first.pk == second.pk:
            raise errors.ValidationError(
                "A transfer links two different transactions", field_errors={"pair_id": "That is the same transaction."}
            )
        if first.transfer_pair_id == second.pk and second.transfer_pair_id == first.pk:
            return _ordered(first, second)
        for row in (first, second):
            if row.transfer_pair_id is not None:
                raise errors.Conflict(
                    f"The transaction of {row.booked_on} ({row.amount} {row.account.currency}) is already part of a "
                    "transfer; unlink it first"
                )
        problem = pair_problem(first, second)
        if problem is not None:
            raise problem
        outflow, inflow = _ordered(first, second)
        outflow.transfer_pair, inflow.transfer_pair = inflow, outflow
        tenant_cache.bump(tenant.pk)
        Transaction.objects.filter(tenant=tenant, pk=outflow.pk).update(transfer_pair=inflow.pk)
        Transaction.objects.filter(tenant=tenant, pk=inflow.pk).update(transfer_pair=outflow.pk)
        TransferDismissal.objects.filter(tenant=tenant, outflow_id=outflow.pk, inflow_id=inflow.pk).delete()
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="transfer.link", instance=outflow,
            changes={"transfer_pair": [None, inflow.pk], "inflow": [None, inflow.pk]},
        )
    return outflow, inflow


def pair_problem(first: Transaction, second: Transaction) -> errors.ValidationError | None:
    """Why these two cannot be one transfer (accounts loaded), or None when they can."""
    if first.account_id == second.account_id:
        return errors.ValidationError(
            "A transfer moves money between two different accounts",
            field_errors={"pair_id": "Same account as the other transaction."},
        )
    if not ((first.amount < 0 < second.amount) or (second.amount < 0 < first.amount)):
        return errors.ValidationError(
            "A transfer is money out of one account (a negative amount) and into another (a positive one)",
            field_errors={"pair_id": "The amounts do not have opposite signs."},
        )
    if first.account.currency == second.account.currency and first.amount != -second.amount:
        return errors.ValidationError(
            f"In one currency a transfer's amounts are opposite ({first.amount} and {second.amount} are not); "
            "record a fee as its own transaction",
            field_errors={"pair_id": "The amounts are not opposite."},
        )
    return None


def lock_with_partner(*, tenant: Tenant, transaction_id: Any) -> tuple[Transaction | None, Transaction | None]:
    """Lock a transaction and, when it is part of a transfer, its partner (account loaded), in id order as
    `link` and `unlink` do; (None, None) when the tenant has no such transaction."""
    row_uuid = _uuid(transaction_id)
    if row_uuid is None:
        return None, None
    ids = {row_uuid} | set(
        Transaction.objects.filter(tenant=tenant, pk=row_uuid, transfer_pair__isnull=False)
        .values_list("transfer_pair_id", flat=True)
    )
    rows = _locked(tenant=tenant, ids=list(ids))
    row = rows.get(row_uuid)
    if row is None or row.transfer_pair_id is None:
        return row, None
    if row.transfer_pair_id not in rows:  # relinked between the two statements
        rows |= _locked(tenant=tenant, ids=[row.transfer_pair_id])
    return row, rows.get(row.transfer_pair_id)


def unlink_if_broken(*, tenant: Tenant, row: Transaction, partner: Transaction | None) -> uuid.UUID | None:
    """After `row` (locked by lock_with_partner, with its new account) was edited: when it and its partner
    are no longer a transfer, unlink both and return the partner's id. For transaction_update, whose audit
    entry records it; no dismissal, since no person said the two are not a pair."""
    if partner is None or pair_problem(row, partner) is None:
        return None
    tenant_cache.bump(tenant.pk)
    Transaction.objects.filter(tenant=tenant, pk__in=[row.pk, partner.pk]).update(transfer_pair=None)
    row.transfer_pair = None
    return partner.pk


def _ordered(first: Transaction, second: Transaction) -> tuple[Transaction, Transaction]:
    return (first, second) if first.amount < second.amount else (second, first)


def unlink(*, tenant: Tenant, actor: User, transaction_id: Any) -> tuple[Transaction, Transaction]:
    """Unlink the transfer one of whose sides is this transaction; detection leaves the pair alone from then
    on. 404 when the transaction is not (or not the tenant's, or not part of a transfer). Returns the two
    (outflow, inflow) as they are now."""
    with transaction.atomic():
        row_uuid = _uuid(transaction_id)
        row = Transaction.objects.filter(tenant=tenant, pk=row_uuid).first() if row_uuid else None
        if row is None:
            raise errors.NotFound("No such transaction")
        if row.transfer_pair_id is None:
            raise errors.NotFound("The transaction is not part of a transfer")
        rows = _locked(tenant=tenant, ids=[row.pk, row.transfer_pair_id])
        first = _require(rows, row.pk)
        if first.transfer_pair_id is None or first.transfer_pair_id not in rows:
            raise errors.NotFound("The transaction is not part of a transfer")
        outflow, inflow = _ordered(first, rows[first.transfer_pair_id])
        tenant_cache.bump(tenant.pk)
        Transaction.objects.filter(tenant=tenant, pk__in=[outflow.pk, inflow.pk]).update(transfer_pair=None)
        outflow.transfer_pair, inflow.transfer_pair = None, None
        TransferDismissal.objects.get_or_create(tenant=tenant, outflow_id=outflow.pk, inflow_id=inflow.pk)
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="transfer.unlink", instance=outflow,
            changes={"transfer_pair": [inflow.pk, None], "inflow": [inflow.pk, None]},
        )
    return outflow, inflow


def unlink_before_delete(*, tenant: Tenant, transactions: models.QuerySet) -> int:
    """Unlink the partners of these transactions in one tenant-scoped statement; for the callers that then
    delete them (transaction_delete, import undo). No audit entry: the caller's covers it."""
    tenant_cache.bump(tenant.pk)
    return Transaction.objects.filter(tenant=tenant, transfer_pair__in=transactions.values("pk")).update(
        transfer_pair=None
    )


# --- reading ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Transfer:
    outflow: Transaction
    inflow: Transaction


MAX_PAGE_SIZE = 100


def transfer_get(*, tenant: Tenant, transaction_id: Any) -> Transfer:
    """The transfer one of whose sides is this transaction."""
    row_uuid = _uuid(transaction_id)
    row = (
        Transaction.objects.select_related("account", "transfer_pair__account").filter(tenant=tenant, pk=row_uuid).first()
        if row_uuid else None
    )
    if row is None:
        raise errors.NotFound("No such transaction")
    if row.transfer_pair is None:
        raise errors.NotFound("The transaction is not part of a transfer")
    outflow, inflow = _ordered(row, row.transfer_pair)
    return Transfer(outflow=outflow, inflow=inflow)


def transfer_page(
    *, tenant: Tenant, limit: int, after: list[str] | None = None
) -> tuple[list[Transfer], list[str] | None]:
    """Transfers, newest first by the date of the side with the smaller id (each pair once), paged by keyset."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."}
        )
    queryset = Transaction.objects.filter(
        tenant=tenant, transfer_pair__isnull=False, pk__lt=models.F("transfer_pair_id")
    ).select_related("account", "transfer_pair__account")
    if after is not None:
        try:
            day, last = dt.date.fromisoformat(after[0]), _uuid(after[1])
        except (ValueError, IndexError, TypeError):
            last = None
        if len(after) != 2 or last is None:
            raise errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})
        queryset = queryset.filter(keyset.after_cursor("booked_on", day, last, id_field="pk"))
    rows = list(queryset.order_by("-booked_on", "-pk")[: limit + 1])
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_key = [rows[-1].booked_on.isoformat(), str(rows[-1].pk)]
    return [Transfer(*_ordered(row, row.transfer_pair)) for row in rows], next_key


MATCH_WINDOW_DAYS = 10
MAX_CANDIDATES = 20


def link_candidates(*, tenant: Tenant, row: Transaction, limit: int = MAX_CANDIDATES) -> list[Transaction]:
    """Transactions a person may link `row` (account loaded) with: free, in another of the tenant's accounts,
    booked within MATCH_WINDOW_DAYS days; in the same currency the opposite amount, in another currency any
    amount of the opposite sign. Same currency first, then the nearest date; at most `limit`, three queries."""
    if row.amount == 0:
        return []
    currency, day, window = row.account.currency, row.booked_on, dt.timedelta(days=MATCH_WINDOW_DAYS)
    free = (
        Transaction.objects.select_related("account")
        .filter(tenant=tenant, transfer_pair__isnull=True, booked_on__gte=day - window, booked_on__lte=day + window)
        .exclude(account_id=row.account_id)
    )
    same = list(free.filter(account__currency=currency, amount=-row.amount).order_by("booked_on", "pk")[:limit])
    other = free.exclude(account__currency=currency).filter(amount__gt=0) if row.amount < 0 else \
        free.exclude(account__currency=currency).filter(amount__lt=0)
    near = [*other.filter(booked_on__gte=day).order_by("booked_on", "pk")[:limit],
            *other.filter(booked_on__lt=day).order_by("-booked_on", "-pk")[:limit]]
    def distance(t: Transaction) -> tuple:
        return abs((t.booked_on - day).days), t.booked_on, t.pk
    return (sorted(same, key=distance) + sorted(near, key=distance))[:limit]
