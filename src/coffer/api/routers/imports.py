"""Spreadsheet imports of a tenant: /api/v1/tenants/{tenant}/imports.

Upload answers 202 at once (the reading runs in the background) with the import's URL in
`Location`; poll the detail for status and progress. Viewers read; members and above upload,
review, commit, undo and save mapping presets (a preset only proposes a mapping for files
with the same header; every import still shows it for review, so it is a member's tool).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid

from django.conf import settings
from fastapi import Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from coffer import errors
from coffer.api import deps, idempotency, pagination, uploads
from coffer.api import errors as api_errors
from coffer.api.db import db_bound
from coffer.api.routing import CofferRouter
from coffer.api.schemas import imports as schemas
from coffer.api.schemas.common import Page
from coffer.imports import report, selectors, services
from coffer.imports.models import ImportBatch, MappingPreset, StagedRow
from coffer.tenancy import roles

router = CofferRouter(tags=["imports"])

BASE = "/tenants/{tenant}/imports"
ONE = BASE + "/{import_id}"
UPLOAD_FIELDS = {"account_id", "sheet"}
# Form fields and part headers next to the file; the file itself is held to IMPORT_MAX_FILE_BYTES.
MULTIPART_OVERHEAD = 64 * 1024
_UPLOAD_PATH = re.compile(r"^/api/v1/tenants/[^/]+/imports/?$")
RowNumber = Path(ge=1, le=10_000_000, description="The row number as the spreadsheet shows it")

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "account_id"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": ".xlsx .xlsm .xls .ods .csv .tsv .txt"},
                "account_id": {"type": "string", "format": "uuid"},
                "sheet": {"type": "string", "description": "Sheet to read (default: chosen automatically)"},
            },
        }}},
    }
}


def upload_body_limit(scope: Scope) -> int | None:
    """The body limit of the upload route (for BodySizeLimitMiddleware); None elsewhere."""
    if scope.get("method") == "POST" and _UPLOAD_PATH.match(scope.get("path", "")):
        return settings.IMPORT_MAX_FILE_BYTES + MULTIPART_OVERHEAD
    return None


# --- shaping ----------------------------------------------------------------


def _out(batch: ImportBatch) -> dict:
    return schemas.ImportOut(
        id=batch.pk, account_id=batch.account_id, file_name=batch.file_name, size=batch.size, sha256=batch.sha256,
        format=batch.format, status=batch.status, sheet=batch.sheet or None, sheets=batch.sheets or [],
        header_row=batch.header_row, mapping=selectors.mapping_letters(batch.mapping),
        mapping_confidence=batch.mapping_confidence, mapping_source=batch.mapping_source,
        progress=schemas.ProgressOut(rows_read=batch.rows_read, rows_validated=batch.rows_validated,
                                     rows_written=batch.rows_written),
        summary=schemas.SummaryOut(rows_total=batch.rows_total, rows_valid=batch.rows_valid,
                                   rows_with_errors=batch.rows_with_errors, rows_duplicate=batch.rows_duplicate,
                                   rows_committed=batch.rows_committed),
        error=batch.error or None, attempts=batch.attempts, created_at=batch.created_at,
        started_at=batch.started_at, finished_at=batch.finished_at, committed_at=batch.committed_at,
        undone_at=batch.undone_at,
    ).model_dump(mode="json")


def _mapping_out(batch: ImportBatch) -> dict:
    return schemas.MappingOut(
        sheet=batch.sheet or None, sheets=batch.sheets or [], header_row=batch.header_row,
        mapping=selectors.mapping_letters(batch.mapping), confidence=batch.mapping_confidence,
        source=batch.mapping_source, signature=batch.signature,
    ).model_dump(mode="json")


def _row_out(row: StagedRow) -> dict:
    will_import = (not row.has_error and not row.excluded and row.fingerprint is not None
                   and (not row.is_duplicate or row.import_anyway))
    return schemas.StagedRowOut(
        row_number=row.row_number,
        values=schemas.RowValuesOut(
            booked_on=row.booked_on, value_on=row.value_on, amount=row.amount, balance=row.balance,
            description=row.description, counterparty=row.counterparty, reference=row.reference,
            currency=row.currency, category=row.category,
        ),
        cells={selectors.column_letter(index): cell for index, cell in enumerate(row.raw or [])},
        issues=selectors.row_issues(row),
        flags=schemas.RowFlagsOut(
            has_error=row.has_error, has_warning=row.has_warning, is_duplicate=row.is_duplicate,
            duplicate_of_row=row.duplicate_of_row, duplicate_of_transaction=row.duplicate_of_transaction,
            excluded=row.excluded, import_anyway=row.import_anyway, accepted_warnings=row.accepted_warnings,
            edited=row.edited, will_import=will_import,
        ),
    ).model_dump(mode="json")


def _location(ctx: deps.TenantContext, batch: ImportBatch) -> str:
    return _location_of(ctx, batch.pk)


def _next(key) -> str | None:
    return pagination.encode_cursor(key if isinstance(key, list) else [key]) if key is not None else None


def _row_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    value = pagination.decode_cursor(cursor, size=1)[0]
    if not value.isdigit():
        raise errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})
    return int(value)


# --- upload and list ----------------------------------------------------------


def _create(ctx: deps.TenantContext, upload: uploads.Upload) -> tuple[dict, str]:
    unknown = sorted(set(upload.fields) - UPLOAD_FIELDS)
    if unknown:
        raise errors.ValidationError(f"Unknown form field {unknown[0]!r}",
                                     field_errors={name: "Unknown field." for name in unknown})
    if not upload.fields.get("account_id", "").strip():
        raise errors.ValidationError("account_id is required", field_errors={"account_id": "Required."})
    batch = services.import_create(
        tenant=ctx.tenant, actor=ctx.user, account_id=upload.fields["account_id"].strip(),
        file_name=upload.file_name, content=upload.file, sheet=upload.fields.get("sheet", ""),
    )
    return _out(batch), _location(ctx, batch)


def _upload_hash(upload: uploads.Upload) -> str:
    """The request's identity for Idempotency-Key: the file's bytes (sha256), its name and the form fields."""
    digest = hashlib.sha256()
    upload.file.seek(0)
    while block := upload.file.read(1024 * 1024):
        digest.update(block)
    upload.file.seek(0)
    return idempotency.body_hash({"file_sha256": digest.hexdigest(), "file_name": upload.file_name,
                                  "fields": upload.fields})


def _create_once(ctx: deps.TenantContext, upload: uploads.Upload, key: str | None, path: str) -> tuple[int, dict, dict]:
    """(status, body, headers). With a key, the same upload again answers with the first import as it
    stands now; the same key with another file or other fields is 409."""
    if key is None:
        body, location = _create(ctx, upload)
        return 202, body, {"Location": location}
    created: list[str] = []

    def create() -> tuple[int, dict]:
        body, _ = _create(ctx, upload)
        created.append(body["id"])
        return 202, body

    status, body, replayed = idempotency.run(key=key, user=ctx.user, method="POST", path=path,
                                             request_hash=_upload_hash(upload), call=create)
    if not replayed:
        return status, body, {"Location": _location_of(ctx, body["id"])}
    for lost in created:  # a concurrent request with this key won; its import is the answer
        services.import_discard_upload(tenant=ctx.tenant, import_id=lost)
    try:
        body = _out(selectors.import_get(tenant=ctx.tenant, import_id=body["id"]))
    except errors.NotFound:
        pass  # gone since: the first answer as it was
    return status, body, {"Location": _location_of(ctx, body["id"]), idempotency.REPLAYED_HEADER: "true"}


def _location_of(ctx: deps.TenantContext, import_id: str) -> str:
    return f"/api/v1/tenants/{ctx.tenant.slug}/imports/{import_id}"


@router.post(BASE, status_code=202, response_model=schemas.ImportOut, openapi_extra=_UPLOAD_BODY,
             responses={413: {"description": "The file is larger than IMPORT_MAX_FILE_BYTES"},
                        409: {"description": "The Idempotency-Key was used for another file or other fields"}})
async def import_upload(
    request: Request, ctx: deps.TenantContext = Depends(deps.tenant_context),
    idempotency_key: str | None = Header(None, alias=idempotency.HEADER,
                                         description="Send the same upload again safely: the first import answers"),
):
    """Upload a statement (multipart: `file`, `account_id`, optional `sheet`); it is read in the background."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    limit = settings.IMPORT_MAX_FILE_BYTES
    try:
        upload = await uploads.receive_file(request, max_file_bytes=limit)
    except uploads.UploadTooLarge:
        return api_errors.problem(
            413, f"The file is larger than the limit of {limit / (1024 * 1024):g} MB ({limit} bytes)",
            request=request, code="file-too-large",
        )
    try:
        status, body, headers = await run_in_threadpool(db_bound(_create_once), ctx, upload, idempotency_key,
                                                        request.url.path)
    finally:
        upload.close()
    return JSONResponse(body, status_code=status, headers=headers)


@router.get(BASE, response_model=Page[schemas.ImportOut])
def import_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    status: schemas.ImportStatus | None = Query(None),
    account: uuid.UUID | None = Query(None, description="Only imports into this account"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = selectors.import_page(tenant=ctx.tenant, limit=limit, after=after, account_id=account,
                                           status=status)
    return {"items": [_out(row) for row in rows], "next": _next(next_key)}


@router.get(ONE, response_model=schemas.ImportOut)
def import_detail(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _out(selectors.import_get(tenant=ctx.tenant, import_id=import_id))


# --- review ---------------------------------------------------------------------


@router.get(ONE + "/issues", response_model=Page[schemas.IssueOut])
def import_issues(
    import_id: uuid.UUID,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    code: str | None = Query(None, max_length=64, pattern=r"^[A-Za-z_]+$"),
    severity: schemas.Severity | None = Query(None),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE,
                       description="Rows per page (a row may carry several issues)"),
    cursor: str | None = Query(None, max_length=2000),
):
    ctx.require(roles.Action.READ)
    found, next_key = selectors.import_issue_page(
        tenant=ctx.tenant, import_id=import_id, limit=limit, after=_row_cursor(cursor), code=code, severity=severity,
    )
    return {"items": found, "next": _next(next_key)}


@router.get(ONE + "/mapping", response_model=schemas.MappingOut)
def import_mapping(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return selectors.import_mapping(tenant=ctx.tenant, import_id=import_id)


@router.put(ONE + "/mapping", status_code=202, response_model=schemas.MappingOut)
def import_mapping_replace(
    import_id: uuid.UUID, payload: schemas.MappingIn, ctx: deps.TenantContext = Depends(deps.tenant_context)
):
    """Replace the mapping; the whole file is validated again in the background (poll the import)."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    batch = services.import_mapping_replace(
        tenant=ctx.tenant, actor=ctx.user, import_id=import_id, mapping=payload.mapping,
        header_row=payload.header_row, sheet=payload.sheet,
    )
    return JSONResponse(_mapping_out(batch), status_code=202, headers={"Location": _location(ctx, batch)})


@router.get(ONE + "/rows", response_model=Page[schemas.StagedRowOut])
def import_rows(
    import_id: uuid.UUID,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    only: schemas.RowFilter | None = Query(None),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    ctx.require(roles.Action.READ)
    rows, next_key = selectors.staged_row_page(
        tenant=ctx.tenant, import_id=import_id, limit=limit, after=_row_cursor(cursor), only=only,
    )
    return {"items": [_row_out(row) for row in rows], "next": _next(next_key)}


@router.patch(ONE + "/rows/{row_number}", response_model=schemas.StagedRowOut)
def import_row_update(
    import_id: uuid.UUID, payload: schemas.RowPatch, row_number: int = RowNumber,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
):
    """Edit raw cells (the row is parsed again) and/or set its flags."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    row = services.import_row_update(
        tenant=ctx.tenant, actor=ctx.user, import_id=import_id, row_number=row_number, cells=payload.cells,
        excluded=payload.excluded, import_anyway=payload.import_anyway, accepted_warnings=payload.accepted_warnings,
    )
    return _row_out(row)


@router.post(ONE + "/rows/bulk", response_model=schemas.RowsBulkOut)
def import_rows_bulk(
    import_id: uuid.UUID, payload: schemas.RowsBulkIn, ctx: deps.TenantContext = Depends(deps.tenant_context)
):
    """Exclude/include, import anyway or accept warnings for up to 1000 rows at once."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    count = services.import_rows_update(
        tenant=ctx.tenant, actor=ctx.user, import_id=import_id, row_numbers=payload.rows,
        excluded=payload.excluded, import_anyway=payload.import_anyway, accepted_warnings=payload.accepted_warnings,
    )
    return {"updated": count}


# --- commit, undo, preset ------------------------------------------------------


@router.post(ONE + "/commit", status_code=202, response_model=schemas.ImportOut,
             responses={200: {"description": "Already committed: nothing more is written",
                              "model": schemas.ImportOut}})
def import_commit(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Commit in the background: 202 with the import ("committing") and its URL; poll it until "committed"
    (`summary.rows_committed`), or back in "review" with `error` if the commit failed (nothing written).
    Every valid, included row is written in one transaction; committing again adds nothing."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    batch = services.import_commit_start(tenant=ctx.tenant, actor=ctx.user, import_id=import_id)
    status = 200 if batch.status == ImportBatch.Status.COMMITTED else 202
    return JSONResponse(_out(batch), status_code=status, headers={"Location": _location(ctx, batch)})


@router.post(ONE + "/retry", status_code=202, response_model=schemas.ImportOut)
def import_retry(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Run the job again for an import that failed, or whose worker died while reading or committing."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    batch = services.import_retry(tenant=ctx.tenant, actor=ctx.user, import_id=import_id)
    return JSONResponse(_out(batch), status_code=202, headers={"Location": _location(ctx, batch)})


@router.post(ONE + "/undo", response_model=schemas.ImportOut)
def import_undo(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Remove exactly the transactions this import added."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    return _out(services.import_undo(tenant=ctx.tenant, actor=ctx.user, import_id=import_id))


@router.post(ONE + "/preset", status_code=201, response_model=schemas.PresetOut)
def import_preset_save(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Remember this import's mapping for files with the same header (member and above)."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    preset: MappingPreset = services.import_mapping_save_preset(tenant=ctx.tenant, actor=ctx.user, import_id=import_id)
    return schemas.PresetOut(
        id=preset.pk, signature=preset.signature, mapping=selectors.mapping_letters(preset.mapping),
        header_row=preset.header_row,
    ).model_dump(mode="json")


# --- error report ---------------------------------------------------------------

_page = db_bound(report.issue_row_page)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}  # report.safe_file_name: no quotes


def _csv_pages(ctx: deps.TenantContext, batch_id: uuid.UUID):
    # Starlette pulls each chunk in a thread-pool thread of its choosing: every page is fetched
    # (and its connection closed) within one pull.
    after = None
    while True:
        rows, after = _page(tenant=ctx.tenant, batch_id=batch_id, after=after)
        yield rows
        if after is None:
            return


@router.get(ONE + "/report.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "One line per issue"}})
def import_report_csv(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    batch = selectors.import_get(tenant=ctx.tenant, import_id=import_id)
    name = report.safe_file_name(batch.file_name, suffix="csv")
    return StreamingResponse(
        report.csv_chunks(_csv_pages(ctx, batch.pk), columns=report.column_count(batch)),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(name),
    )


@router.get(ONE + "/report.xlsx", response_class=FileResponse, responses={200: {"content": {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def import_report_xlsx(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    batch = selectors.import_get(tenant=ctx.tenant, import_id=import_id)
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="coffer-report-")
    os.close(handle)
    try:
        report.write_xlsx(report.issue_row_pages(tenant=ctx.tenant, batch_id=batch.pk), path,
                          columns=report.column_count(batch))
    except BaseException:
        os.unlink(path)
        raise
    return FileResponse(
        path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_attachment(report.safe_file_name(batch.file_name, suffix="xlsx")),
        background=BackgroundTask(os.unlink, path),
    )
