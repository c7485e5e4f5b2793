"""Changing accounts and transactions. Each function is one DB transaction with its audit entry.

`Account.balance` is denormalized: opening_balance + SUM(transactions.amount). Every write
that moves money updates it with a relative UPDATE (`balance = balance + delta`) in the
same transaction as the row it changes, with the account row locked first, so concurrent
writers add up instead of overwriting each other. Locks are always taken transaction row
first, then accounts in id order, so two writers cannot wait on each other.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from coffer import errors, money
from coffer.audit import services as audit_services
from coffer.ledger import defaults, transfers
from coffer.ledger.models import Account, Category, CategorySource, Tag, Transaction, TransactionTag
from coffer.ops import tenant_cache
from coffer.tenancy.models import Tenant, User

ACCOUNT_FIELDS = ["name", "type", "currency", "opening_balance", "institution", "account_number", "archived_at"]
ACCOUNT_EDITABLE = {"name", "type", "currency", "opening_balance", "institution", "account_number", "archived"}
TRANSACTION_FIELDS = [
    "account", "booked_on", "value_on", "amount", "description", "counterparty", "reference", "note", "category",
    "category_source",
]
TRANSACTION_EDITABLE = {
    "account_id", "booked_on", "value_on", "amount", "description", "counterparty", "reference", "note", "category_id",
    "tags",
}
CATEGORY_FIELDS = ["name", "parent", "kind", "color", "archived_at"]
CATEGORY_EDITABLE = {"name", "parent_id", "kind", "color", "archived"}
TAG_FIELDS = ["name"]

MAX_CATEGORIES_PER_TENANT = defaults.MAX_CATEGORIES_PER_TENANT
MAX_TAGS_PER_TENANT = defaults.MAX_TAGS_PER_TENANT
MAX_TAGS_PER_TRANSACTION = defaults.MAX_TAGS_PER_TRANSACTION
CATEGORY_NAME_MAX = 80
TAG_NAME_MAX = 50
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

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
    category_id: uuid.UUID | str | None = None, tags: list[str] | tuple[str, ...] = (),
) -> Transaction:
    """A transaction by hand; `tags` are names of the tenant's existing tags (case-insensitive)."""
    fields = _clean_transaction_fields({
        "booked_on": booked_on, "value_on": value_on, "amount": amount, "description": description,
        "counterparty": counterparty, "reference": reference, "note": note,
    })
    with transaction.atomic():
        account = _locked_account(tenant=tenant, account_id=account_id, field="account_id")
        _refuse_archived(account)
        category = _assignable_category(tenant=tenant, category_id=category_id) if category_id is not None else None
        tag_rows = _tags_by_name(tenant=tenant, names=tags)
        created = Transaction.objects.create(
            tenant=tenant, account=account, created_by=actor, category=category,
            category_source=CategorySource.MANUAL if category else CategorySource.NONE, **fields,
        )
        _move_balance(account.pk, created.amount)
        TransactionTag.objects.bulk_create(TransactionTag(tenant=tenant, transaction=created, tag=tag) for tag in tag_rows)
        changes = audit_services.created_changes(created, TRANSACTION_FIELDS)
        if tag_rows:
            changes["tags"] = [None, _names(tag_rows)]
        audit_services.audit_record(tenant=tenant, actor=actor, action="transaction.create", instance=created,
                                    changes=changes)
    return created


def transaction_update(
    *, tenant: Tenant, actor: User, transaction_id: uuid.UUID | str, changes: dict[str, Any]
) -> Transaction:
    """Apply the given fields. Moving to another account moves the amount from one balance to the other.

    `category_id` set by hand makes `category_source` "manual" (null: uncategorized, source empty);
    `tags` (names) replaces the transaction's tags.
    """
    _unknown(changes, TRANSACTION_EDITABLE)
    cleaned = _clean_transaction_fields(
        {k: v for k, v in changes.items() if k not in {"account_id", "category_id", "tags"}}
    )
    with transaction.atomic():
        row, partner = transfers.lock_with_partner(tenant=tenant, transaction_id=transaction_id)
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
        if "category_id" in changes:
            if changes["category_id"] is None:
                row.category, row.category_source = None, CategorySource.NONE
            else:
                row.category = _assignable_category(
                    tenant=tenant, category_id=changes["category_id"], current_id=row.category_id
                )
                row.category_source = CategorySource.MANUAL
        tag_change = None
        if "tags" in changes:
            new_tags = _tags_by_name(tenant=tenant, names=changes["tags"])
            old_tags = list(Tag.objects.filter(tenant=tenant, links__transaction=row))
            if {t.pk for t in new_tags} != {t.pk for t in old_tags}:
                tag_change = (old_tags, new_tags)

        row.account = locked[new_account_id]
        diff = audit_services.diff(before, audit_services.snapshot(row, TRANSACTION_FIELDS))
        if not diff and tag_change is None:
            return row
        row.save(update_fields=[*diff, "updated_at"])
        if tag_change is not None:
            _replace_tags(tenant=tenant, row=row, old=tag_change[0], new=tag_change[1])
            diff["tags"] = [_names(tag_change[0]), _names(tag_change[1])]
        # An edit that leaves the two sides no longer opposite (or in one account) ends the transfer.
        unlinked = transfers.unlink_if_broken(tenant=tenant, row=row, partner=partner)
        if unlinked is not None:
            diff["transfer_pair"] = [unlinked, None]
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
        transfers.unlink_before_delete(tenant=tenant, transactions=Transaction.objects.filter(pk=row.pk))
        row.delete()


def transaction_tags_clear(*, tenant: Tenant, transactions: models.QuerySet) -> int:
    """Take the tags off these transactions in one statement; for callers that then delete the
    transactions themselves without Django's collector (import undo's raw delete). No audit entry:
    the caller's own entry covers the deletion. Returns how many tag links went."""
    removed, _ = TransactionTag.objects.filter(tenant=tenant, transaction_id__in=transactions.values("pk")).delete()
    return removed


def _names(tags: list[Tag]) -> list[str]:
    return sorted((tag.name for tag in tags), key=str.casefold)


def _replace_tags(*, tenant: Tenant, row: Transaction, old: list[Tag], new: list[Tag]) -> None:
    keep = {tag.pk for tag in new}
    gone = [tag.pk for tag in old if tag.pk not in keep]
    if gone:
        TransactionTag.objects.filter(tenant=tenant, transaction=row, tag_id__in=gone).delete()
    present = {tag.pk for tag in old}
    TransactionTag.objects.bulk_create(
        TransactionTag(tenant=tenant, transaction=row, tag=tag) for tag in new if tag.pk not in present
    )


# --- labels (category and tag names) ----------------------------------------


def _clean_label(value: Any, *, what: str, max_length: int, field: str = "name") -> str:
    """Trimmed, inner whitespace collapsed; refused when empty or too long."""
    if not isinstance(value, str):
        raise errors.ValidationError(f"A {what} name must be text", field_errors={field: "Must be text."})
    name = " ".join(value.split())
    if not name:
        raise errors.ValidationError(f"A {what} needs a name", field_errors={field: "Required."})
    if len(name) > max_length:
        raise errors.ValidationError(
            f"A {what} name has at most {max_length} characters", field_errors={field: f"At most {max_length} characters."}
        )
    return name


def _locked_tenant(tenant: Tenant) -> None:
    """Serialises per-tenant limits (category and tag counts) between concurrent creators."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()


# --- categories -----------------------------------------------------------


def _category_name_taken(name: str, parent: Category | None) -> errors.Conflict:
    where = f"under {parent.name!r}" if parent else "at the top level"
    return errors.Conflict(
        f"A category named {name!r} already exists {where}", field_errors={"name": "Already taken."}
    )


def _check_category_name_free(*, tenant: Tenant, name: str, parent: Category | None, exclude: uuid.UUID | None = None) -> None:
    clash = Category.objects.filter(tenant=tenant, parent=parent, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise _category_name_taken(name, parent)


def _clean_kind(value: Any) -> str:
    if value not in Category.Kind.values:
        raise errors.ValidationError(
            f"{value!r} is not a category kind", field_errors={"kind": f"One of {', '.join(Category.Kind.values)}."}
        )
    return value


def _clean_color(value: Any) -> str:
    color = (value or "").strip() if isinstance(value, str) or value is None else None
    if color is None or (color and not _COLOR.match(color)):
        raise errors.ValidationError(
            f"{value!r} is not a color", field_errors={"color": 'A hex color such as "#1e88e5", or empty.'}
        )
    return color.lower()


def _category_in_tenant(*, tenant: Tenant, category_id: Any, field: str | None = None, lock: bool = False) -> Category:
    """The tenant's category. `field` set: the id came from the body (422), else from the URL (404)."""
    category_uuid = _uuid(category_id)
    queryset = Category.objects.select_related("parent")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    found = queryset.filter(tenant=tenant, pk=category_uuid).first() if category_uuid else None
    if found is None:
        if field:
            raise errors.ValidationError("No such category", field_errors={field: "No such category in this tenant."})
        raise errors.NotFound("No such category")
    return found


def _top_level_parent(*, tenant: Tenant, parent_id: Any) -> Category:
    parent = _category_in_tenant(tenant=tenant, category_id=parent_id, field="parent_id")
    if parent.parent_id is not None:
        raise errors.ValidationError(
            f"{parent.name!r} is a subcategory; categories are two levels deep, so a parent must be top-level",
            field_errors={"parent_id": "Not a top-level category."},
        )
    return parent


def _inherited_kind(*, kind: Any, parent: Category) -> str:
    if kind is not None and kind != parent.kind:
        raise errors.ValidationError(
            f"A subcategory has its parent's kind: {parent.name!r} is {parent.kind}",
            field_errors={"kind": f"Must be {parent.kind}, like its parent."},
        )
    return parent.kind


def _assignable_category(*, tenant: Tenant, category_id: Any, current_id: uuid.UUID | None = None) -> Category:
    """A category a transaction may be put in: the tenant's, not archived (unless it already is there)."""
    category = _category_in_tenant(tenant=tenant, category_id=category_id, field="category_id")
    if category.pk != current_id:
        archived = next((c for c in (category, category.parent) if c is not None and c.archived), None)
        if archived is not None:
            raise errors.Conflict(
                f"The category {archived.name!r} is archived; unarchive it or choose another",
                field_errors={"category_id": "Archived."},
            )
    return category


def category_tree_seed(*, tenant: Tenant, actor: User | None) -> int:
    """Give a tenant the default category tree (ledger.defaults); a tenant that has categories is left alone.

    Called where tenants are created, inside their transaction. One audit entry; returns how many were made.
    """
    with transaction.atomic():
        if Category.objects.filter(tenant=tenant).exists():
            return 0
        now = timezone.now()
        parents, children = [], []
        for name, kind, color, child_names in defaults.DEFAULT_TREE:
            parent = Category(tenant=tenant, name=name, kind=kind, color=color, created_at=now)
            parents.append(parent)
            children += [Category(tenant=tenant, parent=parent, name=child, kind=kind, created_at=now) for child in child_names]
        Category.objects.bulk_create(parents)
        Category.objects.bulk_create(children)
        count = len(parents) + len(children)
        audit_services.audit_record(tenant=tenant, actor=actor, action="category.seed", object_type="category",
                                    object_id="", changes={"categories": [0, count]})
    return count


def category_create(
    *, tenant: Tenant, actor: User, name: str, kind: str | None = None, parent_id: uuid.UUID | str | None = None,
    color: str = "",
) -> Category:
    """A top-level category (kind required) or a subcategory of a top-level one (kind inherited)."""
    name = _clean_label(name, what="category", max_length=CATEGORY_NAME_MAX)
    color = _clean_color(color)
    with transaction.atomic():
        _locked_tenant(tenant)
        if Category.objects.filter(tenant=tenant).count() >= MAX_CATEGORIES_PER_TENANT:
            raise errors.Conflict(
                f"A tenant has at most {MAX_CATEGORIES_PER_TENANT} categories; delete some first (archived ones count too)"
            )
        if parent_id is not None:
            parent = _top_level_parent(tenant=tenant, parent_id=parent_id)
            if parent.archived:
                raise errors.Conflict(
                    f"The category {parent.name!r} is archived; unarchive it before adding subcategories",
                    field_errors={"parent_id": "Archived."},
                )
            kind = _inherited_kind(kind=kind, parent=parent)
        else:
            parent = None
            if kind is None:
                raise errors.ValidationError(
                    "A top-level category needs a kind", field_errors={"kind": f"One of {', '.join(Category.Kind.values)}."}
                )
            kind = _clean_kind(kind)
        _check_category_name_free(tenant=tenant, name=name, parent=parent)
        category = Category(tenant=tenant, parent=parent, name=name, kind=kind, color=color)
        try:
            with transaction.atomic():
                category.save(force_insert=True)
        except IntegrityError:
            raise _category_name_taken(name, parent) from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="category.create", instance=category,
                                    changes=audit_services.created_changes(category, CATEGORY_FIELDS))
    return category


def category_update(*, tenant: Tenant, actor: User, category_id: uuid.UUID | str, changes: dict[str, Any]) -> Category:
    """Rename, move (`parent_id`; null makes it top-level), change kind or color, archive. A no-op writes nothing.

    A subcategory takes the kind of the parent it moves under; changing a top-level category's
    kind changes its subcategories' too.
    """
    _unknown(changes, CATEGORY_EDITABLE)
    with transaction.atomic():
        category = _category_in_tenant(tenant=tenant, category_id=category_id, lock=True)
        before = audit_services.snapshot(category, CATEGORY_FIELDS)
        if "parent_id" in changes:
            if changes["parent_id"] is None:
                category.parent = None
            else:
                parent = _top_level_parent(tenant=tenant, parent_id=changes["parent_id"])
                if parent.pk == category.pk:
                    raise errors.ValidationError(
                        "A category cannot be its own parent", field_errors={"parent_id": "That is this category."}
                    )
                if parent.pk != category.parent_id:
                    children = Category.objects.filter(tenant=tenant, parent=category).count()
                    if children:
                        raise errors.Conflict(
                            f"{category.name!r} has {children} subcategor{'ies' if children != 1 else 'y'}; categories "
                            "are two levels deep, so move them away before moving it under another category",
                            field_errors={"parent_id": "Has subcategories."},
                        )
                category.parent = parent
        if category.parent is not None:
            category.kind = _inherited_kind(kind=changes.get("kind"), parent=category.parent)
        elif "kind" in changes:
            category.kind = _clean_kind(changes["kind"])
        if "name" in changes:
            category.name = _clean_label(changes["name"], what="category", max_length=CATEGORY_NAME_MAX)
        if "color" in changes:
            category.color = _clean_color(changes["color"])
        if "archived" in changes and bool(changes["archived"]) != category.archived:
            category.archived_at = timezone.now() if changes["archived"] else None

        diff = audit_services.diff(before, audit_services.snapshot(category, CATEGORY_FIELDS))
        if not diff:
            return category
        if {"name", "parent"} & set(diff):
            _check_category_name_free(tenant=tenant, name=category.name, parent=category.parent, exclude=category.pk)
        try:
            with transaction.atomic():
                category.save(update_fields=[*diff, "updated_at"])
        except IntegrityError:
            raise _category_name_taken(category.name, category.parent) from None
        if "kind" in diff and category.parent is None:
            moved = Category.objects.filter(tenant=tenant, parent=category).update(kind=category.kind, updated_at=timezone.now())
            if moved:
                diff["subcategories_kind"] = [None, moved]
        audit_services.audit_record(tenant=tenant, actor=actor, action="category.update", instance=category, changes=diff)
    return category


def category_delete(
    *, tenant: Tenant, actor: User, category_id: uuid.UUID | str, reassign_to: uuid.UUID | str | None = None
) -> int:
    """Delete a category; its transactions move to `reassign_to` (keeping their category source) or become
    uncategorized. A category with subcategories is refused. Returns how many transactions moved."""
    with transaction.atomic():
        category = _category_in_tenant(tenant=tenant, category_id=category_id, lock=True)
        children = Category.objects.filter(tenant=tenant, parent=category).count()
        if children:
            raise errors.Conflict(
                f"{category.name!r} has {children} subcategor{'ies' if children != 1 else 'y'}; "
                "move or delete them first"
            )
        target = None
        if reassign_to is not None:
            target = _assignable_category(tenant=tenant, category_id=reassign_to)
            if target.pk == category.pk:
                raise errors.ValidationError(
                    "Transactions cannot be reassigned to the category being deleted",
                    field_errors={"reassign_to": "That is this category."},
                )
        used = Transaction.objects.filter(tenant=tenant, category=category)
        if target is not None:
            moved = used.update(category=target, updated_at=timezone.now())
        else:
            moved = used.update(category=None, category_source=CategorySource.NONE, updated_at=timezone.now())
        changes = audit_services.deleted_changes(category, CATEGORY_FIELDS)
        changes["transactions"] = [moved, 0]
        if target is not None:
            changes["reassigned_to"] = [None, str(target.pk)]
        audit_services.audit_record(tenant=tenant, actor=actor, action="category.delete", instance=category, changes=changes)
        Category.objects.filter(tenant=tenant, pk=category.pk).delete()
    return moved


# --- tags -----------------------------------------------------------------


def _tag_name_taken(name: str) -> errors.Conflict:
    return errors.Conflict(f"A tag named {name!r} already exists", field_errors={"name": "Already taken."})


def _tags_by_name(*, tenant: Tenant, names: Any) -> list[Tag]:
    """The tenant's tags with these names (case-insensitive, duplicates ignored); unknown names are refused."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise errors.ValidationError("tags must be a list of tag names", field_errors={"tags": "A list of names."})
    wanted: dict[str, str] = {}
    for raw in names:
        name = _clean_label(raw, what="tag", max_length=TAG_NAME_MAX, field="tags")
        wanted.setdefault(name.casefold(), name)
    if len(wanted) > MAX_TAGS_PER_TRANSACTION:
        raise errors.ValidationError(
            f"A transaction has at most {MAX_TAGS_PER_TRANSACTION} tags",
            field_errors={"tags": f"At most {MAX_TAGS_PER_TRANSACTION}."},
        )
    if not wanted:
        return []
    match = models.Q()
    for name in wanted.values():
        match |= models.Q(name__iexact=name)
    found = list(Tag.objects.filter(tenant=tenant).filter(match))
    known = {tag.name.casefold() for tag in found}
    missing = [name for key, name in wanted.items() if key not in known]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise errors.ValidationError(
            f"No such tag: {listed}; an admin creates tags first",
            field_errors={"tags": f"No such tag: {listed}."},
        )
    return found


def _tag_in_tenant(*, tenant: Tenant, tag_id: Any) -> Tag:
    tag_uuid = _uuid(tag_id)
    tag = Tag.objects.select_for_update().filter(tenant=tenant, pk=tag_uuid).first() if tag_uuid else None
    if tag is None:
        raise errors.NotFound("No such tag")
    return tag


def tag_create(*, tenant: Tenant, actor: User, name: str) -> Tag:
    name = _clean_label(name, what="tag", max_length=TAG_NAME_MAX)
    with transaction.atomic():
        _locked_tenant(tenant)
        if Tag.objects.filter(tenant=tenant).count() >= MAX_TAGS_PER_TENANT:
            raise errors.Conflict(f"A tenant has at most {MAX_TAGS_PER_TENANT} tags; delete some first")
        if Tag.objects.filter(tenant=tenant, name__iexact=name).exists():
            raise _tag_name_taken(name)
        tag = Tag(tenant=tenant, name=name)
        try:
            with transaction.atomic():
                tag.save(force_insert=True)
        except IntegrityError:
            raise _tag_name_taken(name) from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="tag.create", instance=tag,
                                    changes=audit_services.created_changes(tag, TAG_FIELDS))
    return tag


def tag_update(*, tenant: Tenant, actor: User, tag_id: uuid.UUID | str, changes: dict[str, Any]) -> Tag:
    """Rename a tag (every transaction carrying it shows the new name). A no-op writes nothing."""
    _unknown(changes, set(TAG_FIELDS))
    with transaction.atomic():
        tag = _tag_in_tenant(tenant=tenant, tag_id=tag_id)
        before = audit_services.snapshot(tag, TAG_FIELDS)
        if "name" in changes:
            tag.name = _clean_label(changes["name"], what="tag", max_length=TAG_NAME_MAX)
        diff = audit_services.diff(before, audit_services.snapshot(tag, TAG_FIELDS))
        if not diff:
            return tag
        if Tag.objects.filter(tenant=tenant, name__iexact=tag.name).exclude(pk=tag.pk).exists():
            raise _tag_name_taken(tag.name)
        try:
            with transaction.atomic():
                tag.save(update_fields=[*diff, "updated_at"])
        except IntegrityError:
            raise _tag_name_taken(tag.name) from None
        audit_services.audit_record(tenant=tenant, actor=actor, action="tag.update", instance=tag, changes=diff)
    return tag


def tag_delete(*, tenant: Tenant, actor: User, tag_id: uuid.UUID | str) -> int:
    """Delete a tag and take it off every transaction; returns how many transactions carried it."""
    with transaction.atomic():
        tag = _tag_in_tenant(tenant=tenant, tag_id=tag_id)
        removed, _ = TransactionTag.objects.filter(tenant=tenant, tag=tag).delete()
        changes = audit_services.deleted_changes(tag, TAG_FIELDS)
        changes["transactions"] = [removed, 0]
        audit_services.audit_record(tenant=tenant, actor=actor, action="tag.delete", instance=tag, changes=changes)
        Tag.objects.filter(tenant=tenant, pk=tag.pk).delete()
    return removed


# --- many transactions at once ------------------------------------------------------

from coffer.tenancy import roles as tenancy_roles  # noqa: E402 - kept with the one function that needs it
from coffer.tenancy.models import Membership  # noqa: E402

BULK_MAX_TRANSACTIONS = 500
BULK_ACTIONS = ("set_category", "add_tag", "remove_tag", "delete")


def _require_transaction_writer(*, tenant: Tenant, actor: User) -> None:
    """Members and above write transactions; someone outside the tenant does not learn it exists."""
    membership = Membership.objects.filter(tenant=tenant, user=actor).first() if actor is not None else None
    if membership is None:
        raise errors.NotFound("No such tenant")
    if not tenancy_roles.role_allows(membership.role, tenancy_roles.Action.WRITE_TRANSACTIONS):
        raise errors.PermissionDenied(f"Your role ({membership.role}) does not allow this")


def _bulk_ids(transaction_ids: Any) -> list[uuid.UUID]:
    if isinstance(transaction_ids, (str, bytes)) or not isinstance(transaction_ids, (list, tuple, set)):
        raise errors.ValidationError("transaction_ids must be a list of ids", field_errors={"transaction_ids": "A list."})
    ids = list(dict.fromkeys(_uuid(value) for value in transaction_ids))
    if None in ids:
        raise errors.ValidationError("Not a transaction id", field_errors={"transaction_ids": "Not an id."})
    if not ids:
        raise errors.ValidationError("Select at least one transaction", field_errors={"transaction_ids": "Required."})
    if len(ids) > BULK_MAX_TRANSACTIONS:
        raise errors.ValidationError(
            f"At most {BULK_MAX_TRANSACTIONS} transactions at once; {len(ids)} were selected",
            field_errors={"transaction_ids": f"At most {BULK_MAX_TRANSACTIONS}."},
        )
    return ids


def transaction_bulk_update(
    *, tenant: Tenant, actor: User, transaction_ids: list[uuid.UUID | str], action: str,
    category_id: uuid.UUID | str | None = None, tag: str | None = None,
) -> int:
    """One change to up to BULK_MAX_TRANSACTIONS of the tenant's transactions, all or nothing: a few
    set-based statements in one DB transaction with one audit entry. Returns how many transactions changed.

    - "set_category": `category_id` (None: uncategorized), set by hand ("manual", so no rule overwrites it);
    - "add_tag" / "remove_tag": `tag`, the name of one of the tenant's tags;
    - "delete": the transactions go, their amounts come off their accounts' balances.

    Members and above only. An id that is not one of the tenant's transactions (another tenant's, or
    deleted meanwhile) refuses the whole request and changes nothing.
    """
    _require_transaction_writer(tenant=tenant, actor=actor)
    if action not in BULK_ACTIONS:
        raise errors.ValidationError(f"Unknown action {action!r}", field_errors={"action": f"One of {', '.join(BULK_ACTIONS)}."})
    ids = _bulk_ids(transaction_ids)
    with transaction.atomic():
        # Lock order as everywhere: transaction rows first, then their accounts in id order.
        found = list(
            Transaction.objects.select_for_update().filter(tenant=tenant, pk__in=ids).values_list("pk", "account_id")
        )
        if len(found) != len(ids):
            missing = len(ids) - len(found)
            raise errors.ValidationError(
                f"{missing} of the selected transactions {'do' if missing != 1 else 'does'} not exist (any more); "
                "reload the list and select again",
                field_errors={"transaction_ids": "Unknown transactions."},
            )
        rows = Transaction.objects.filter(tenant=tenant, pk__in=ids)
        tenant_cache.bump(tenant.pk)
        now = timezone.now()
        changes: dict[str, list[Any]] = {"transactions": [None, sorted(str(pk) for pk in ids)]}

        if action == "set_category":
            if category_id is None:
                changed = rows.filter(category__isnull=False).update(
                    category=None, category_source=CategorySource.NONE, updated_at=now)
                changes["category"] = [None, None]
            else:
                target = _assignable_category(tenant=tenant, category_id=category_id)
                changed = rows.exclude(category=target, category_source=CategorySource.MANUAL).update(
                    category=target, category_source=CategorySource.MANUAL, updated_at=now)
                changes["category"] = [None, str(target.pk)]
        elif action in ("add_tag", "remove_tag"):
            if not isinstance(tag, str):
                raise errors.ValidationError("Give the name of a tag", field_errors={"tag": "Required."})
            try:
                (tag_row,) = _tags_by_name(tenant=tenant, names=[tag])
            except errors.ValidationError as exc:  # the same message, pinned to this call's field
                raise errors.ValidationError(exc.message, field_errors={"tag": next(iter(exc.field_errors.values()))}) from None
            links = TransactionTag.objects.filter(tenant=tenant, tag=tag_row, transaction_id__in=ids)
            if action == "remove_tag":
                changed, _ = links.delete()
            else:
                carrying = set(links.values_list("transaction_id", flat=True))
                lacking = [pk for pk in ids if pk not in carrying]
                full = (
                    TransactionTag.objects.filter(tenant=tenant, transaction_id__in=lacking)
                    .values("transaction_id").annotate(n=models.Count("id")).filter(n__gte=MAX_TAGS_PER_TRANSACTION)
                    .count()
                )
                if full:
                    raise errors.ValidationError(
                        f"{full} of the selected transactions already {'have' if full != 1 else 'has'} "
                        f"{MAX_TAGS_PER_TRANSACTION} tags, the most a transaction can carry",
                        field_errors={"tag": f"At most {MAX_TAGS_PER_TRANSACTION} tags per transaction."},
                    )
                TransactionTag.objects.bulk_create(
                    TransactionTag(tenant=tenant, transaction_id=pk, tag=tag_row) for pk in lacking
                )
                changed = len(lacking)
                if lacking:
                    rows.filter(pk__in=lacking).update(updated_at=now)
            changes["tag"] = [None, tag_row.name]
        else:  # delete
            account_ids = sorted({account_id for _, account_id in found}, key=str)
            list(Account.objects.select_for_update().filter(tenant=tenant, pk__in=account_ids).order_by("pk"))
            totals = {
                row["account_id"]: row["total"]
                for row in rows.values("account_id").annotate(total=models.Sum("amount")).order_by()
            }
            transfers.unlink_before_delete(tenant=tenant, transactions=rows)
            transaction_tags_clear(tenant=tenant, transactions=rows)
            rows._raw_delete(rows.db)  # one statement, like import undo: the links that point here are gone
            changed = len(found)
            for account_id, total in totals.items():
                _move_balance(account_id, -money.stored(total))
            changes["amount_by_account"] = [None, {str(k): str(money.stored(v)) for k, v in totals.items()}]
        changes["changed"] = [None, changed]
        if changed or action == "delete":
            audit_services.audit_record(tenant=tenant, actor=actor, action=f"transaction.bulk_{action}",
                                        object_type="transaction", object_id="", changes=changes)
    return changed
