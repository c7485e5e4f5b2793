"""Reading imports: tenant-scoped, bounded, keyset-paginated (see ledger.selectors for the page shape)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import models

from coffer import errors, keyset
from coffer.imports.models import ImportBatch, StagedRow
from coffer.tenancy.models import Tenant

MAX_PAGE_SIZE = 100
ROW_FILTERS = ("errors", "warnings", "duplicates", "excluded", "valid")
SEVERITIES = ("error", "warning")
_LETTERS = re.compile(r"^[A-Za-z]{1,3}$")
_BAD_CURSOR = errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})


def parse_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(column: Any) -> int | None:
    """A column letter ("A", "ab") or a 0-based index -> 0-based index; None when neither."""
    if isinstance(column, bool):
        return None
    if isinstance(column, int):
        return column if 0 <= column < 16384 else None
    text = str(column).strip()
    if text.isdigit():
        return column_index(int(text))
    if not _LETTERS.match(text):
        return None
    index = 0
    for char in text.upper():
        index = index * 26 + ord(char) - 64
    return index - 1 if index - 1 < 16384 else None


def mapping_letters(mapping: dict[str, int]) -> dict[str, str]:
    return {field: column_letter(int(index)) for field, index in (mapping or {}).items()}


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."}
        )


# --- batches ----------------------------------------------------------------


def import_get(*, tenant: Tenant, import_id: Any) -> ImportBatch:
    batch_uuid = parse_uuid(import_id)
    batch = (
        ImportBatch.objects.select_related("account", "created_by").filter(tenant=tenant, pk=batch_uuid).first()
        if batch_uuid else None
    )
    if batch is None:
        raise errors.NotFound("No such import")
    return batch


def import_page(
    *, tenant: Tenant, limit: int, after: list[str] | None = None, account_id: Any = None, status: str | None = None,
) -> tuple[list[ImportBatch], list[str] | None]:
    """Newest first (created_at, id descending)."""
    _check_limit(limit)
    queryset = ImportBatch.objects.filter(tenant=tenant).select_related("account", "created_by")
    if account_id is not None:
        queryset = queryset.filter(account_id=parse_uuid(account_id))
    if status is not None:
        if status not in ImportBatch.Status.values:
            raise errors.ValidationError(f"Unknown status {status!r}", field_errors={"status": "Not a status."})
        queryset = queryset.filter(status=status)
    if after is not None:
        try:
            created, last_id = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
        except (ValueError, IndexError):
            raise _BAD_CURSOR from None
        queryset = queryset.filter(keyset.after_cursor("created_at", created, last_id))
    rows = list(queryset.order_by("-created_at", "-id")[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, [rows[-1].created_at.isoformat(), str(rows[-1].pk)]
    return rows, None


# --- staged rows and their issues -----------------------------------------------


def row_issues(row: StagedRow) -> list[dict[str, Any]]:
    """The row's parser/rule issues plus its duplicate flag as an issue record."""
    found = list(row.issues or [])
    if row.duplicate_of_transaction is not None:
        found.append({
            "row": row.row_number, "column": None, "code": "W_DUPLICATE_EXISTING", "severity": "warning",
            "message": "This transaction is already in the account; it is skipped unless you import it anyway.",
            "value": str(row.duplicate_of_transaction),
        })
    elif row.duplicate_of_row is not None:
        found.append({
            "row": row.row_number, "column": None, "code": "W_DUPLICATE_IN_FILE", "severity": "warning",
            "message": f"This line repeats row {row.duplicate_of_row} exactly; it is skipped unless you import it anyway.",
            "value": str(row.duplicate_of_row),
        })
    return found


def _rows(*, tenant: Tenant, import_id: Any) -> models.QuerySet:
    batch = import_get(tenant=tenant, import_id=import_id)
    return StagedRow.objects.filter(tenant=tenant, batch=batch)


def _issue_filter(code: str | None, severity: str | None) -> models.Q:
    query = models.Q(has_error=True) | models.Q(has_warning=True) | models.Q(is_duplicate=True)
    if severity is not None:
        if severity not in SEVERITIES:
            raise errors.ValidationError("Unknown severity", field_errors={"severity": "error or warning."})
        query = models.Q(has_error=True) if severity == "error" else models.Q(has_warning=True) | models.Q(is_duplicate=True)
    if code is not None:
        code = code.strip().upper()
        if code == "W_DUPLICATE_EXISTING":
            query &= models.Q(duplicate_of_transaction__isnull=False)
        elif code == "W_DUPLICATE_IN_FILE":
            query &= models.Q(duplicate_of_row__isnull=False, duplicate_of_transaction__isnull=True)
        else:
            query &= models.Q(issue_codes__contains=f",{code},")
    return query


def import_issue_page(
    *, tenant: Tenant, import_id: Any, limit: int, after: int | None = None, code: str | None = None,
    severity: str | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Issues of up to `limit` rows (in row order) that match; the next key is the last row number."""
    _check_limit(limit)
    queryset = _rows(tenant=tenant, import_id=import_id).filter(_issue_filter(code, severity))
    if after is not None:
        queryset = queryset.filter(row_number__gt=after)
    rows = list(queryset.order_by("row_number")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    found = [
        issue for row in rows for issue in row_issues(row)
        if (code is None or issue["code"] == code.strip().upper()) and (severity is None or issue["severity"] == severity)
    ]
    return found, (rows[-1].row_number if more else None)


def import_issues_all(*, tenant: Tenant, import_id: Any) -> Iterator[dict[str, Any]]:
    """Every issue of the import, streamed in row order (for the CLI and error reports)."""
    queryset = _rows(tenant=tenant, import_id=import_id).filter(_issue_filter(None, None)).order_by("row_number")
    for row in queryset.iterator(chunk_size=2000):
        yield from row_issues(row)


def staged_row_page(
    *, tenant: Tenant, import_id: Any, limit: int, after: int | None = None, only: str | None = None,
) -> tuple[list[StagedRow], int | None]:
    """Staged rows in row order; `only` narrows to errors, warnings, duplicates, excluded or valid rows."""
    _check_limit(limit)
    queryset = _rows(tenant=tenant, import_id=import_id)
    if only is not None:
        if only not in ROW_FILTERS:
            raise errors.ValidationError(f"Unknown filter {only!r}", field_errors={"only": f"One of {', '.join(ROW_FILTERS)}."})
        queryset = queryset.filter({
            "errors": models.Q(has_error=True),
            "warnings": models.Q(has_warning=True),
            "duplicates": models.Q(is_duplicate=True),
            "excluded": models.Q(excluded=True),
            "valid": models.Q(has_error=False),
        }[only])
    if after is not None:
        queryset = queryset.filter(row_number__gt=after)
    rows = list(queryset.order_by("row_number")[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, rows[-1].row_number
    return rows, None


def staged_issue_row_page(
    *, tenant: Tenant, import_id: Any, limit: int, after: int | None = None, code: str | None = None,
    severity: str | None = None,
) -> tuple[list[StagedRow], int | None]:
    """Staged rows (not issue records) with an issue matching code/severity, in row order (the web issue view)."""
    _check_limit(limit)
    queryset = _rows(tenant=tenant, import_id=import_id).filter(_issue_filter(code, severity))
    if after is not None:
        queryset = queryset.filter(row_number__gt=after)
    rows = list(queryset.order_by("row_number")[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, rows[-1].row_number
    return rows, None


# What import_commit writes: valid, included, fingerprinted rows, duplicates only when imported anyway.
WILL_IMPORT = (models.Q(has_error=False, excluded=False, fingerprint__isnull=False)
               & (models.Q(is_duplicate=False) | models.Q(import_anyway=True)))


def import_commit_count(*, tenant: Tenant, batch: ImportBatch) -> int:
    """How many staged rows a commit of the batch would write now."""
    return StagedRow.objects.filter(tenant=tenant, batch=batch).filter(WILL_IMPORT).count()


def staged_row_get(*, tenant: Tenant, import_id: Any, row_number: int) -> StagedRow:
    row = _rows(tenant=tenant, import_id=import_id).filter(row_number=row_number).first()
    if row is None:
        raise errors.NotFound(f"The import has no row {row_number}")
    return row


def import_mapping(*, tenant: Tenant, import_id: Any) -> dict[str, Any]:
    batch = import_get(tenant=tenant, import_id=import_id)
    return {
        "sheet": batch.sheet or None, "sheets": batch.sheets, "header_row": batch.header_row,
        "mapping": mapping_letters(batch.mapping), "confidence": batch.mapping_confidence,
        "source": batch.mapping_source, "signature": batch.signature,
    }
