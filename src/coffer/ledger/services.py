"""Changing accounts and transactions. Each function is one DB transaction with its audit entry.

`Account.balance` is denormalized: opening_balance + SUM(transactions.amount). Every write
that moves money updates it with a relative UPDATE (`balance = balance + delta`) in the
same transaction as the row it changes, with the account row locked first, so concurrent
writers add up instead of overwriting each other. Locks are always taken transaction row
first, then accounts in id order, so two writers cannot wait on each other.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from coffer import errors, money
from coffer.audit import services as audit_services
from coffer.ledger.models import Account, Transaction
from coffer.tenancy.models import Tenant, User

ACCOUNT_FIELDS = ["name", "type", "currency", "opening_balance", "institution", "account_number", "archived_at"]
ACCOUNT_EDITABLE = {"name", "type", "currency", "opening_balance", "institution", "account_number", "archived"}
TRANSACTION_FIELDS = ["account", "booked_on", "value_on", "amount", "description", "counterparty", "reference", "note"]
TRANSACTION_EDITABLE = {"account_id", "booked_on", "value_on", "amount", "description", "counterparty", "reference", "note"}

_NAME_TAKEN = errors.Conflict("An account with this name already exists", field_errors={"name": "Already taken."})


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise errors.ValidationError("An account needs a name", field_errors={"name": "Required."})
    return name


def _clean_type(value: str) -> str:
    if value not in Account.Type.values:
        raise errors.ValidationError(
            f"{value!r} is not an account type", field_errors={"type": f"One of {', '.join(Account.Type.values)}."}
        )
    return value


def _unknown(changes: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise errors.ValidationError(f"Unknown fields: {', '.join(unknown)}", field_errors={f: "Unknown field." for f in unknown})


def _move_balance(account_id: uuid.UUID, delta: Decimal) -> None:
    if delta:
        Account.objects.filter(pk=account_id).update(balance=models.F("balance") + delta)


def _locked_account(*, tenant: Tenant, account_id: Any, field: str | None = None) -> Account:
    """The tenant's account, row-locked. `field` set: it came from the body (422), else from the URL (404)."""
    account_uuid = _uuid(account_id)
    account = (
        Account.objects.select_for_update().filter(tenant=tenant, pk=account_uuid).first() if account_uuid else None
    )
    if account is None:
        if field:
            raise errors.ValidationError("No such account", field_errors={field: "No such account in this tenant."})
        raise errors.NotFound("No such account")
    return account


def _refuse_archived(account: Account) -> None:
    if account.archived_at is not None:
        raise errors.Conflict(
            f"The account {account.name!r} is archived and takes no new transactions; unarchive it first",
            field_errors={"account_id": "Archived."},
        )


# --- accounts -------------------------------------------------------------


def account_create(
    *, tenant: Tenant, actor: User, name: str, currency: str, type: str = Account.Type.CHECKING,
    opening_balance: Decimal | str = Decimal("0"), institution: str = "", account_number: str = "",
) -> Account:
    opening = money.clean_amount(opening_balance, field="opening_balance")
    account = Account(
        tenant=tenant, name=_clean_name(name), type=_clean_type(type), currency=money.clean_currency(currency),
        opening_balance=opening, balance=opening, institution=institution.strip(), account_number=account_number.strip(),
    )
    with transaction.atomic():
        if Account.objects.filter(tenant=tenant, name=account.name).exists():
            raise _NAME_TAKEN
        try:
            with transaction.atomic():
                account.save(force_insert=True)
        except IntegrityError:
            raise _NAME_TAKEN from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="account.create", instance=account,
                                    changes=audit_services.created_changes(account, ACCOUNT_FIELDS))
    return account


def account_update(*, tenant: Tenant, actor: User, account_id: uuid.UUID | str, changes: dict[str, Any]) -> Account:
    """Apply the given fields; `archived` (bool) archives or unarchives. A no-op writes nothing."""
    _unknown(changes, ACCOUNT_EDITABLE)
    with transaction.atomic():
        account = _locked_account(tenant=tenant, account_id=account_id)
        before = audit_services.snapshot(account, ACCOUNT_FIELDS)
        if "name" in changes:
            account.name = _clean_name(changes["name"])
            if account.name != before["name"] and Account.objects.filter(tenant=tenant, name=account.name).exists():
                raise _NAME_TAKEN
        if "type" in changes:
            account.type = _clean_type(changes["type"])
        for field in ("institution", "account_number"):
            if field in changes:
                setattr(account, field, (changes[field] or "").strip())
        if "currency" in changes:
            account.currency = money.clean_currency(changes["currency"])
            if account.currency != before["currency"] and account.transactions.exists():
                raise errors.Conflict(
                    "The currency of an account with transactions cannot change",
                    field_errors={"currency": "The account has transactions."},
                )
        delta = Decimal("0")
        if "opening_balance" in changes:
            opening = money.clean_amount(changes["opening_balance"], field="opening_balance")
            delta = opening - account.opening_balance
            account.opening_balance = opening
        if "archived" in changes and bool(changes["archived"]) != account.archived:
            account.archived_at = timezone.now() if changes["archived"] else None

        diff = audit_services.diff(before, audit_services.snapshot(account, ACCOUNT_FIELDS))
        if not diff:
            return account
        # `balance` is not saved from memory: a concurrent writer may have moved it.
        try:
            with transaction.atomic():
                account.save(update_fields=[*diff, "updated_at"])
        except IntegrityError:
            raise _NAME_TAKEN from None
        _move_balance(account.pk, delta)
        audit_services.audit_record(tenant=tenant, actor=actor, action="account.update", instance=account, changes=diff)
    account.refresh_from_db()
    return account


def account_delete(*, tenant: Tenant, actor: User, account_id: uuid.UUID | str) -> None:
    with transaction.atomic():
        account = _locked_account(tenant=tenant, account_id=account_id)
        count = account.transactions.count()
        if count:
            raise errors.Conflict(
                f"The account has {count} transaction{'s' if count != 1 else ''} and cannot be deleted; "
                "archive it instead (PATCH with archived=true)"
            )
        changes = audit_services.deleted_changes(account, ACCOUNT_FIELDS)
        audit_services.audit_record(tenant=tenant, actor=actor, action="account.delete", instance=account, changes=changes)
        account.delete()


# --- transactions ---------------------------------------------------------


def _clean_transaction_fields(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    if "amount" in cleaned:
        cleaned["amount"] = money.clean_amount(cleaned["amount"])
    for field in ("booked_on", "value_on"):
        value = cleaned.get(field)
        if field in cleaned and value is not None and not isinstance(value, dt.date):
            raise errors.ValidationError(f"{field} must be a date", field_errors={field: "Not a date."})
    if "booked_on" in cleaned and cleaned["booked_on"] is None:
        raise errors.ValidationError("booked_on is required", field_errors={"booked_on": "Required."})
    for field in ("description", "counterparty", "reference", "note"):
        if field in cleaned:
            cleaned[field] = (cleaned[field] or "").strip()
    return cleaned


def transaction_create(
    *, tenant: Tenant, actor: User, account_id: uuid.UUID | str, booked_on: dt.date, amount: Decimal | str,
    value_on: dt.date | None = None, description: str = "", counterparty: str = "", reference: str = "", note: str = "",
) -> Transaction:
    fields = _clean_transaction_fields({
        "booked_on": booked_on, "value_on": value_on, "amount": amount, "description": description,
        "counterparty": counterparty, "reference": reference, "note": note,
    })
    with transaction.atomic():
        account = _locked_account(tenant=tenant, account_id=account_id, field="account_id")
        _refuse_archived(account)
        created = Transaction.objects.create(tenant=tenant, account=account, created_by=actor, **fields)
        _move_balance(account.pk, created.amount)
        audit_services.audit_record(tenant=tenant, actor=actor, action="transaction.create", instance=created,
                                    changes=audit_services.created_changes(created, TRANSACTION_FIELDS))
    return created


def transaction_update(
    *, tenant: Tenant, actor: User, transaction_id: uuid.UUID | str, changes: dict[str, Any]
) -> Transaction:
    """Apply the given fields. Moving to another account moves the amount from one balance to the other."""
    _unknown(changes, TRANSACTION_EDITABLE)
    cleaned = _clean_transaction_fields({k: v for k, v in changes.items() if k != "account_id"})
    transaction_uuid = _uuid(transaction_id)
    with transaction.atomic():
        row = (
            Transaction.objects.select_for_update().filter(tenant=tenant, pk=transaction_uuid).first()
            if transaction_uuid else None
        )
        if row is None:
            raise errors.NotFound("No such transaction")
        before = audit_services.snapshot(row, TRANSACTION_FIELDS)
        old_account_id, old_amount = row.account_id, row.amount
        new_account_id = _uuid(changes["account_id"]) if "account_id" in changes else old_account_id

        locked = {}
        for account_id in sorted({old_account_id, new_account_id}, key=lambda v: str(v) if v else ""):
            locked[account_id] = _locked_account(tenant=tenant, account_id=account_id, field="account_id")
        if new_account_id != old_account_id:
            source, target = locked[old_account_id], locked[new_account_id]
            _refuse_archived(target)
            if source.currency != target.currency:
                raise errors.Conflict(
                    f"Cannot move a {source.currency} transaction to a {target.currency} account",
                    field_errors={"account_id": "Different currency."},
                )
        for field, value in cleaned.items():
            setattr(row, field, value)

        row.account = locked[new_account_id]
        diff = audit_services.diff(before, audit_services.snapshot(row, TRANSACTION_FIELDS))
        if not diff:
            return row
        row.save(update_fields=[*diff, "updated_at"])
        if new_account_id == old_account_id:
            _move_balance(old_account_id, row.amount - old_amount)
        else:
            _move_balance(old_account_id, -old_amount)
            _move_balance(new_account_id, row.amount)
        audit_services.audit_record(tenant=tenant, actor=actor, action="transaction.update", instance=row, changes=diff)
    return row


def transaction_delete(*, tenant: Tenant, actor: User, transaction_id: uuid.UUID | str) -> None:
    transaction_uuid = _uuid(transaction_id)
    with transaction.atomic():
        row = (
            Transaction.objects.select_for_update().filter(tenant=tenant, pk=transaction_uuid).first()
            if transaction_uuid else None
        )
        if row is None:
            raise errors.NotFound("No such transaction")
        _locked_account(tenant=tenant, account_id=row.account_id)
        audit_services.audit_record(tenant=tenant, actor=actor, action="transaction.delete", instance=row,
                                    changes=audit_services.deleted_changes(row, TRANSACTION_FIELDS))
        _move_balance(row.account_id, -row.amount)
        row.delete()
