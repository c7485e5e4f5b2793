"""Changing imports: upload, review operations, commit and undo. Each one transaction, each audited.

Nothing here touches the ledger before `import_commit`, which copies the staged rows in one
`INSERT ... SELECT ... ON CONFLICT DO NOTHING`: the unique (tenant, account, fingerprint)
index makes a retried, repeated or concurrent commit add nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from coffer import errors, money
from coffer.audit import services as audit_services
from coffer.imports import jobs, selectors, staging
from coffer.imports.models import ImportBatch, MappingPreset, StagedRow
from coffer.ledger import rules as ledger_rules
from coffer.ledger import services as ledger_services
from coffer.ledger import transfers as ledger_transfers
from coffer.ledger.models import Account, Category, CategorySource, Transaction
from coffer.ops import jobs as ops_jobs
from coffer.ops import tenant_cache
from coffer.tenancy import roles
from coffer.tenancy.models import Membership, Tenant, User

logger = logging.getLogger(__name__)

Status = ImportBatch.Status
FIELDS = ("date", "value_date", "description", "counterparty", "reference", "amount", "debit", "credit",
          "balance", "currency", "category")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}$")
_REVIEW_ONLY = "The import is {status}; rows and mapping can only change while it is in review"


def _locked_batch(*, tenant: Tenant, import_id: Any) -> ImportBatch:
    batch_uuid = selectors.parse_uuid(import_id)
    batch = (
        ImportBatch.objects.select_for_update().filter(tenant=tenant, pk=batch_uuid).first() if batch_uuid else None
    )
    if batch is None:
        raise errors.NotFound("No such import")
    return batch


def _require_review(batch: ImportBatch) -> None:
    if batch.status != Status.REVIEW:
        raise errors.Conflict(_REVIEW_ONLY.format(status=batch.get_status_display().lower()))


# --- upload ---------------------------------------------------------------


def import_create(
    *, tenant: Tenant, actor: User | None, account_id: Any, file_name: str, content: BinaryIO, sheet: str = "",
    enqueue: bool = True,
) -> ImportBatch:
    """Store the upload under MEDIA_ROOT/imports/<tenant>/<id>/, record it queued, start the job after commit."""
    account_uuid = selectors.parse_uuid(account_id)
    account = Account.objects.filter(tenant=tenant, pk=account_uuid).first() if account_uuid else None
    if account is None:
        raise errors.ValidationError("No such account", field_errors={"account_id": "No such account in this tenant."})
    if account.archived_at is not None:
        raise errors.Conflict(f"The account {account.name!r} is archived; unarchive it before importing into it")
    name = Path((file_name or "upload").replace("\\", "/")).name[:255] or "upload"
    suffix = _SUFFIX.search(name.lower())
    batch = ImportBatch(tenant=tenant, account=account, created_by=actor, file_name=name, sheet=(sheet or "").strip())
    batch.file_path = f"imports/{tenant.pk}/{batch.pk}/upload{suffix.group(0) if suffix else ''}"
    target = staging.file_path(batch)
    batch.sha256, batch.size = _store(content, target)
    try:
        with transaction.atomic():
            batch.save(force_insert=True)
            audit_services.audit_record(
                tenant=tenant, actor=actor, action="import.create", instance=batch,
                changes=audit_services.created_changes(batch, ["account", "file_name", "sha256", "size", "sheet"]),
            )
            if enqueue:
                transaction.on_commit(lambda: jobs.enqueue(batch.pk))
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    return batch


def import_discard_upload(*, tenant: Tenant, import_id: Any) -> None:
    """Remove the stored file of an upload whose record was rolled back (never of a recorded import)."""
    batch_uuid = selectors.parse_uuid(import_id)
    if batch_uuid is None or ImportBatch.objects.filter(pk=batch_uuid).exists():
        return
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "imports" / str(tenant.pk) / str(batch_uuid), ignore_errors=True)


def _store(content: BinaryIO, target: Path) -> tuple[str, int]:
    """Copy the upload to disk, hashing it and refusing it past the size limit (nothing is left behind)."""
    limit = settings.IMPORT_MAX_FILE_BYTES
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("wb") as out:
            while block := content.read(1024 * 1024):
                size += len(block)
                if size > limit:
                    raise errors.ValidationError(
                        f"The file is larger than the limit of {limit // (1024 * 1024)} MB",
                        field_errors={"file": f"At most {limit} bytes."},
                    )
                digest.update(block)
                out.write(block)
        if size == 0:
            raise errors.ValidationError("The file is empty", field_errors={"file": "Empty file."})
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    return digest.hexdigest(), size


# --- review ---------------------------------------------------------------


def _clean_mapping(mapping: dict[str, Any]) -> dict[str, int]:
    cleaned: dict[str, int] = {}
    problems: dict[str, str] = {}
    for field, column in (mapping or {}).items():
        if field not in FIELDS:
            problems[field] = f"Unknown field; one of {', '.join(FIELDS)}."
            continue
        index = selectors.column_index(column)
        if index is None:
            problems[field] = "A column letter (A, B, ... AA) or a 0-based column number."
        else:
            cleaned[field] = index
    if not problems:
        if "date" not in cleaned:
            problems["date"] = "Required."
        if "amount" not in cleaned and not {"debit", "credit"} & set(cleaned):
            problems["amount"] = "Map an amount column, or debit and/or credit columns."
        used = list(cleaned.values())
        if len(used) != len(set(used)):
            problems["mapping"] = "Each column can be mapped to one field only."
    if problems:
        raise errors.ValidationError("The mapping is not valid", field_errors=problems)
    return cleaned


def import_mapping_replace(
    *, tenant: Tenant, actor: User | None, import_id: Any, mapping: dict[str, Any], header_row: int | None = None,
    sheet: str | None = None, enqueue: bool = True,
) -> ImportBatch:
    """Use the person's mapping (field -> column letter or index) and validate the whole file again."""
    cleaned = _clean_mapping(mapping)
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        if batch.status not in (Status.REVIEW, Status.FAILED):
            raise errors.Conflict(_REVIEW_ONLY.format(status=batch.get_status_display().lower()))
        if header_row is not None and header_row < 1:
            raise errors.ValidationError("header_row starts at 1", field_errors={"header_row": "At least 1."})
        before = {"mapping": batch.mapping, "header_row": batch.header_row, "sheet": batch.sheet}
        batch.mapping, batch.mapping_source = cleaned, "user"
        if header_row is not None:
            batch.header_row = header_row
        if sheet is not None and sheet != batch.sheet:
            batch.sheet = sheet
        batch.status = Status.QUEUED
        batch.save()
        after = {"mapping": batch.mapping, "header_row": batch.header_row, "sheet": batch.sheet}
        audit_services.audit_record(tenant=tenant, actor=actor, action="import.mapping_replace", instance=batch,
                                    changes=audit_services.diff(before, after))
        if enqueue:
            transaction.on_commit(lambda: jobs.enqueue(batch.pk))
    return batch


def import_mapping_save_preset(*, tenant: Tenant, actor: User | None, import_id: Any) -> MappingPreset:
    """Remember the batch's confirmed mapping for files with the same header signature."""
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        if not batch.signature or not batch.mapping:
            raise errors.Conflict("The import has no header signature or mapping to save yet")
        preset, created = MappingPreset.objects.update_or_create(
            tenant=tenant, signature=batch.signature,
            defaults={"mapping": batch.mapping, "header_row": batch.header_row, "created_by": actor},
        )
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="import.preset_save", instance=preset,
            changes={"signature": [None, batch.signature], "mapping": [None, batch.mapping],
                     "created": [None, created]},
        )
    return preset


def import_rows_update(
    *, tenant: Tenant, actor: User | None, import_id: Any, row_numbers: list[int], excluded: bool | None = None,
    import_anyway: bool | None = None, accepted_warnings: bool | None = None,
) -> int:
    """Exclude/include rows, import flagged duplicates anyway, accept warnings. Returns rows changed."""
    changes = {key: value for key, value in (("excluded", excluded), ("import_anyway", import_anyway),
                                              ("accepted_warnings", accepted_warnings)) if value is not None}
    if not changes:
        raise errors.ValidationError("Nothing to change", field_errors={"excluded": "Give at least one flag."})
    if not row_numbers or len(row_numbers) > 10_000:
        raise errors.ValidationError("Give between 1 and 10000 row numbers", field_errors={"rows": "1..10000 rows."})
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        _require_review(batch)
        rows = StagedRow.objects.filter(tenant=tenant, batch=batch, row_number__in=set(row_numbers))
        found = set(rows.values_list("row_number", flat=True))
        missing = sorted(set(row_numbers) - found)
        if missing:
            raise errors.ValidationError(
                f"The import has no row {missing[0]}", field_errors={"rows": f"Unknown rows: {missing[:20]}"}
            )
        count = rows.update(**changes)
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="import.rows_update", instance=batch,
            changes={"rows": [None, sorted(found)[:1000]], **{key: [None, value] for key, value in changes.items()}},
        )
    return count


def import_row_edit(
    *, tenant: Tenant, actor: User | None, import_id: Any, row_number: int, cells: dict[str, Any]
) -> StagedRow:
    """Change raw cell values (column letter -> text) of one staged row, parse it again, re-check duplicates."""
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        _require_review(batch)
        row = StagedRow.objects.filter(tenant=tenant, batch=batch, row_number=row_number).first()
        if row is None:
            raise errors.NotFound(f"The import has no row {row_number}")
        raw = list(row.raw)
        before = {}
        for column, value in (cells or {}).items():
            index = selectors.column_index(column)
            if index is None or index >= max(len(raw), 1) + 64:
                raise errors.ValidationError(f"{column!r} is not a column", field_errors={column: "Not a column."})
            raw.extend([""] * (index + 1 - len(raw)))
            before[selectors.column_letter(index)] = raw[index]
            raw[index] = "" if value is None else str(value)
        if not before:
            raise errors.ValidationError("Give at least one cell", field_errors={"cells": "Required."})
        parsed = staging.reparse_row(batch, row_number=row_number, cells=raw)
        values = staging.staged_values(batch, parsed, transaction_id=row.transaction_id)
        for name in ("booked_on", "value_on", "amount", "balance", "description", "counterparty", "reference",
                     "currency", "category", "issues", "issue_codes", "has_error", "has_warning",
                     "fingerprint_base", "content_hash"):
            setattr(row, name, values[name])
        row.raw, row.edited = raw, True
        row.save()
        staging.mark_duplicates(batch)
        staging.summarise(batch)
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="import.row_edit", instance=batch,
            changes={f"row {row_number} {letter}": [old, raw[selectors.column_index(letter)]]
                     for letter, old in before.items()},
        )
    row.refresh_from_db()
    return row


def import_row_update(
    *, tenant: Tenant, actor: User | None, import_id: Any, row_number: int, cells: dict[str, Any] | None = None,
    excluded: bool | None = None, import_anyway: bool | None = None, accepted_warnings: bool | None = None,
) -> StagedRow:
    """One row's edit (cells and/or flags) in one transaction: `import_row_edit` then `import_rows_update`."""
    flags = {key: value for key, value in (("excluded", excluded), ("import_anyway", import_anyway),
                                            ("accepted_warnings", accepted_warnings)) if value is not None}
    if not cells and not flags:
        raise errors.ValidationError("Nothing to change", field_errors={"cells": "Give cells or a flag."})
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        _require_review(batch)
        if not StagedRow.objects.filter(tenant=tenant, batch=batch, row_number=row_number).exists():
            raise errors.NotFound(f"The import has no row {row_number}")
        if cells:
            import_row_edit(tenant=tenant, actor=actor, import_id=batch.pk, row_number=row_number, cells=cells)
        if flags:
            import_rows_update(tenant=tenant, actor=actor, import_id=batch.pk, row_numbers=[row_number], **flags)
        return StagedRow.objects.get(tenant=tenant, batch=batch, row_number=row_number)


# --- commit and undo --------------------------------------------------------


def _db_uuid(value: Any) -> Any:
    return models.UUIDField().get_db_prep_value(value, connection)


def _require_writer(*, tenant: Tenant, actor: User | None) -> None:
    """Members and above commit; a person outside the tenant does not learn the import exists.
    No actor is the system itself (the CLI, a job)."""
    if actor is None:
        return
    membership = Membership.objects.filter(tenant=tenant, user=actor).first()
    if membership is None:
        raise errors.NotFound("No such import")
    if not roles.role_allows(membership.role, roles.Action.WRITE_TRANSACTIONS):
        raise errors.PermissionDenied(f"Your role ({membership.role}) does not allow this")


def _committable(batch: ImportBatch) -> Account:
    """The batch's account, locked, when the batch may be committed; Conflict otherwise."""
    if batch.status not in (Status.REVIEW, Status.COMMITTING):
        raise errors.Conflict(
            f"The import is {batch.get_status_display().lower()} and cannot be committed"
            + ("; upload the file again" if batch.status == Status.UNDONE else "")
        )
    account = Account.objects.select_for_update().get(pk=batch.account_id)
    if account.archived_at is not None:
        raise errors.Conflict(f"The account {account.name!r} is archived; unarchive it before committing")
    return account


def import_commit_start(*, tenant: Tenant, actor: User | None, import_id: Any, enqueue: bool = True) -> ImportBatch:
    """Mark a batch in review "committing" and commit it in the background; returns at once.

    The job (`import_commit_run`) is `import_commit`: one transaction, so a job that dies leaves
    nothing written and the batch "committing" (Celery delivers it again; `import_retry` re-runs
    it); a job that fails hands the batch back to review with the reason in `error`. Starting
    a batch already committing or committed changes nothing and starts no second job.
    """
    _require_writer(tenant=tenant, actor=actor)
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        if batch.status in (Status.COMMITTING, Status.COMMITTED):
            return batch
        _committable(batch)  # a Conflict naming the status, or an archived account
        batch.status, batch.error = Status.COMMITTING, ""
        batch.save(update_fields=["status", "error", "updated_at"])
        audit_services.audit_record(tenant=tenant, actor=actor, action="import.commit_start", instance=batch,
                                    changes={"status": [Status.REVIEW, Status.COMMITTING]})
        if enqueue:
            actor_id = actor.pk if actor is not None else None
            transaction.on_commit(lambda: jobs.enqueue_commit(batch.pk, actor_id))
    return batch


@ops_jobs.import_job("commit")
def import_commit_run(*, batch_id: Any, actor_id: Any = None) -> None:
    """The background commit job: commit a batch marked "committing" (anything else: nothing to do)."""
    batch = ImportBatch.objects.select_related("tenant").filter(pk=batch_id).first()
    if batch is None or batch.status != Status.COMMITTING:
        return  # a repeated or redelivered job: already committed, or handed back to review
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        import_commit(tenant=batch.tenant, actor=actor, import_id=batch.pk)
    except errors.DomainError as exc:
        _commit_failed(batch, exc.message)
    except Exception:
        logger.exception("commit of import %s failed", batch.pk)
        _commit_failed(batch, "The commit failed because of an internal error (it has been logged); nothing was "
                              "written, commit again.")
        raise


def _commit_failed(batch: ImportBatch, message: str) -> None:
    """Hand a batch whose commit job failed back to review; its transaction wrote nothing."""
    ImportBatch.objects.filter(pk=batch.pk, status=Status.COMMITTING).update(
        status=Status.REVIEW, error=message[:2000], updated_at=timezone.now()
    )


def import_commit(*, tenant: Tenant, actor: User | None, import_id: Any) -> ImportBatch:
    """Write every valid, included, non-duplicate row to the ledger in one transaction, now.

    The CLI and the commit job call this; requests call `import_commit_start`. Idempotent: a
    second (or concurrent) commit waits for the batch lock, finds the batch committed and
    returns it unchanged; the fingerprint index refuses any row already there.
    """
    clock = staging.PhaseClock()
    with clock("transaction_commit"), transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        if batch.status == Status.COMMITTED:
            return batch
        account = _committable(batch)
        before = batch.status
        with clock("insert"):
            _insert_from_staging(batch=batch, actor=actor)
        tenant_cache.bump(tenant.pk)
        added = Transaction.objects.filter(tenant=tenant, import_batch=batch)
        counts = added.aggregate(n=models.Count("id"), total=models.Sum("amount"), first=models.Min("booked_on"))
        total = money.stored(counts["total"])
        if total:
            Account.objects.filter(pk=account.pk).update(balance=models.F("balance") + total)
        with clock("categorize"):
            _categorize_from_file(batch)
            ledger_rules.apply_to_import(tenant, batch.pk)
        if counts["first"] is not None:
            with clock("transfers"):
                ledger_transfers.detect(tenant, since=counts["first"], actor=actor)
        now = timezone.now()
        batch.status, batch.rows_committed, batch.committed_at, batch.error = Status.COMMITTED, counts["n"], now, ""
        batch.save(update_fields=["status", "rows_committed", "committed_at", "error", "updated_at"])
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="import.commit", instance=batch,
            changes={"status": [before, Status.COMMITTED], "rows_committed": [0, counts["n"]],
                     "amount": [None, total]},
        )
    # transaction_commit spans the whole transaction; less the phases, it is mostly the COMMIT itself
    # (PostgreSQL checks the deferred foreign keys of every inserted row there).
    phases = clock.rounded()
    phases["transaction_commit"] = round(
        phases["transaction_commit"] - sum(v for k, v in phases.items() if k != "transaction_commit"), 3)
    logger.info("import %s committed: %d rows", batch.pk, counts["n"],
                extra={"rows": counts["n"], "seconds_by_phase": phases})
    return batch


def _categorize_from_file(batch: ImportBatch) -> int:
    """A category column in the file names the tenant's categories: rows whose text matches exactly one
    category (ignoring case) get it, marked as set by the import; other text is left for rules."""
    by_name: dict[str, list] = {}
    for category in Category.objects.filter(tenant_id=batch.tenant_id, archived_at__isnull=True).only("id", "name"):
        by_name.setdefault(category.name.casefold(), []).append(category.pk)
    names = (StagedRow.objects.filter(tenant_id=batch.tenant_id, batch=batch).exclude(category="")
             .values_list("category", flat=True).distinct())
    changed = 0
    for name in names.iterator():
        matches = by_name.get(name.strip().casefold(), [])
        if len(matches) != 1:
            continue
        rows = StagedRow.objects.filter(tenant_id=batch.tenant_id, batch=batch, category=name).values("transaction_id")
        changed += Transaction.objects.filter(tenant_id=batch.tenant_id, import_batch=batch, id__in=rows).update(
            category_id=matches[0], category_source=CategorySource.IMPORT)
    return changed


def _insert_from_staging(*, batch: ImportBatch, actor: User | None) -> None:
    staged = StagedRow._meta.db_table
    ledger = Transaction._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    batch_id = _db_uuid(batch.pk)
    # A flagged duplicate of a transaction already in the account, imported anyway, needs its own
    # fingerprint (still unique per batch, so a retry of this batch adds nothing).
    anyway_suffix = "+" + batch.pk.hex[-8:]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ledger} (id, tenant_id, account_id, booked_on, value_on, amount, description,
                                  counterparty, reference, note, fingerprint, created_by_id, import_batch_id,
                                  created_at, updated_at)
            SELECT s.transaction_id, s.tenant_id, %s, s.booked_on, s.value_on, s.amount, s.description,
                   s.counterparty, s.reference, '',
                   CASE WHEN s.import_anyway AND s.duplicate_of_transaction IS NOT NULL
                        THEN s.fingerprint || %s ELSE s.fingerprint END,
                   %s, %s, %s, %s
            FROM {staged} AS s
            WHERE s.tenant_id = %s AND s.batch_id = %s AND NOT s.has_error AND NOT s.excluded
              AND s.fingerprint IS NOT NULL AND (NOT s.is_duplicate OR s.import_anyway)
            ORDER BY s.row_number
            ON CONFLICT (tenant_id, account_id, fingerprint) WHERE fingerprint IS NOT NULL DO NOTHING
            """,
            [_db_uuid(batch.account_id), anyway_suffix, actor._meta.pk.get_db_prep_value(actor.pk, connection) if actor else None,
             batch_id, now, now,
             _db_uuid(batch.tenant_id), batch_id],
        )


def import_undo(*, tenant: Tenant, actor: User | None, import_id: Any) -> ImportBatch:
    """Delete exactly the transactions this import added and take their sum off the balance."""
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        if batch.status == Status.UNDONE:
            return batch
        if batch.status != Status.COMMITTED:
            raise errors.Conflict(f"The import is {batch.get_status_display().lower()}; only a committed import can be undone")
        Account.objects.select_for_update().filter(pk=batch.account_id).first()
        added = Transaction.objects.filter(tenant=tenant, import_batch=batch)
        counts = added.aggregate(n=models.Count("id"), total=models.Sum("amount"))
        total = money.stored(counts["total"])
        ledger_transfers.unlink_before_delete(tenant=tenant, transactions=added)
        ledger_services.transaction_tags_clear(tenant=tenant, transactions=added)
        added._raw_delete(added.db)
        tenant_cache.bump(tenant.pk)
        if total:
            Account.objects.filter(pk=batch.account_id).update(balance=models.F("balance") - total)
        batch.status, batch.undone_at = Status.UNDONE, timezone.now()
        batch.save(update_fields=["status", "undone_at", "updated_at"])
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="import.undo", instance=batch,
            changes={"status": [Status.COMMITTED, Status.UNDONE], "rows_removed": [counts["n"], 0],
                     "amount": [total, None]},
        )
    return batch


def import_retry(*, tenant: Tenant, actor: User | None, import_id: Any, enqueue: bool = True) -> ImportBatch:
    """Run the job again for a batch that failed or whose worker died: reading (staged rows are rebuilt)
    or committing (the commit job runs again; a commit that did happen is not repeated)."""
    with transaction.atomic():
        batch = _locked_batch(tenant=tenant, import_id=import_id)
        if batch.status == Status.COMMITTING:
            # The commit job died with its worker: its transaction wrote nothing; run it again.
            audit_services.audit_record(tenant=tenant, actor=actor, action="import.retry", instance=batch,
                                        changes={"job": [None, "commit"]})
            if enqueue:
                actor_id = actor.pk if actor is not None else None
                transaction.on_commit(lambda: jobs.enqueue_commit(batch.pk, actor_id))
            return batch
        if batch.status not in (Status.FAILED, Status.QUEUED, Status.READING, Status.VALIDATING):
            raise errors.Conflict(f"The import is {batch.get_status_display().lower()} and is not re-run")
        before = batch.status
        batch.status = Status.QUEUED
        batch.save(update_fields=["status", "updated_at"])
        audit_services.audit_record(tenant=tenant, actor=actor, action="import.retry", instance=batch,
                                    changes={"status": [before, Status.QUEUED]})
        if enqueue:
            transaction.on_commit(lambda: jobs.enqueue(batch.pk))
    return batch
