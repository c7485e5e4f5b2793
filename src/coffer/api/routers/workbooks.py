"""Any upload as a workbook: /api/v1/tenants/{tenant}/imports/{import_id}/workbook/...

Sheets, rows page by page (100 a page, or the page holding a row), the column profile, the
deterministic quality report and the LLM review; plus the tenant's quality settings and the
review spend of the month. The profile and the report are computed once per file content in
the background: until then they answer 202 with the progress (poll the same URL). Everyone
in the tenant reads; members and above start reviews; admins and owners change the settings.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from coffer import errors
from coffer.api import deps, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import workbooks as schemas
from coffer.imports import issues
from coffer.quality import cells, rules, selectors, services
from coffer.quality.models import Finding, QualitySettings, Review, SheetAnalysis
from coffer.quality.review import notice, providers, runner
from coffer.tenancy import roles

router = CofferRouter(tags=["workbooks"])

ONE = "/tenants/{tenant}/imports/{import_id}/workbook"
SheetQuery = Query(None, max_length=255, description="Sheet name (default: the import's sheet; leave out for CSV)")
_RUNNING = {202: {"model": schemas.AnalysisOut, "description": "Still being analysed: poll the same URL"}}


# --- shaping --------------------------------------------------------------------------------


def _issue(finding: Finding) -> dict:
    return {"row": finding.row, "column": finding.column or None, "code": finding.code,
            "severity": finding.severity, "message": finding.message, "value": finding.value, "source": "rules"}


def _analysis_out(analysis: SheetAnalysis, sheet: str | None) -> dict:
    return schemas.AnalysisOut(
        sheet=sheet, status=analysis.status, rows_read=analysis.rows_read, rows_total=analysis.rows_total,
        error=analysis.error or None,
    ).model_dump(mode="json")


def _not_ready(analysis: SheetAnalysis, sheet: str | None, request: Request) -> JSONResponse | None:
    if analysis.status == SheetAnalysis.Status.READY:
        return None
    if analysis.status == SheetAnalysis.Status.FAILED:
        raise errors.ValidationError(analysis.error or "The sheet could not be analysed",
                                     field_errors={"file": analysis.error or "Not readable."})
    return JSONResponse(_analysis_out(analysis, sheet), status_code=202, headers={"Location": str(request.url)})


def _rules_out(quality_settings: QualitySettings) -> list[dict]:
    enabled = set(selectors.enabled_families(quality_settings))
    return [{**item, "enabled": item["family"] in enabled} for item in rules.describe()]


def _review_out(review: Review) -> dict:
    result = review.result or {}
    return schemas.ReviewOut(
        id=review.pk, import_id=review.batch_id, sheet=review.sheet or None, status=review.status,
        progress=review.progress, stage=review.stage, provider=review.provider, model=review.model,
        prompt_version=review.prompt_version, attempts=review.attempts, input_tokens=review.input_tokens,
        output_tokens=review.output_tokens, cost=schemas.money(review.cost), cached=review.cached,
        summary=result.get("summary") if review.status == Review.Status.SUCCEEDED else None,
        findings=runner.findings_out(review) if review.status == Review.Status.SUCCEEDED else [],
        error=review.error or None, created_at=review.created_at, finished_at=review.finished_at,
    ).model_dump(mode="json")


# --- viewer -----------------------------------------------------------------------------------


@router.get(ONE + "/sheets", response_model=schemas.SheetsOut)
def workbook_sheets(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Every worksheet of the upload with its size."""
    ctx.require(roles.Action.READ)
    batch = selectors.import_get(tenant=ctx.tenant, import_id=import_id)
    found = selectors.sheets(batch=batch)
    default = selectors.sheet_resolve(batch=batch, sheet=None)["name"]
    return {"sheets": found, "default": default}


@router.get(ONE + "/rows", response_model=schemas.RowsPageOut)
def workbook_rows(
    import_id: uuid.UUID,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    sheet: str | None = SheetQuery,
    page: int = Query(1, ge=1, le=1_000_000, description="1-based page of 100 rows"),
    row: int | None = Query(None, ge=1, le=100_000_000, description="Jump to the page holding this row"),
):
    """One page of rows as the spreadsheet has them, with the deterministic findings on those rows."""
    ctx.require(roles.Action.READ)
    batch = selectors.import_get(tenant=ctx.tenant, import_id=import_id)
    info = selectors.sheet_resolve(batch=batch, sheet=sheet)
    analysis = services.analysis_ensure(tenant=ctx.tenant, import_id=batch.pk, sheet=info["name"])
    shown = selectors.rows_page(batch=batch, sheet=info, number=page, row=row)
    families = selectors.enabled_families(selectors.settings_get(tenant=ctx.tenant))
    first = shown.rows[0].number if shown.rows else 0
    last = shown.rows[-1].number if shown.rows else -1
    by_row: dict[int, list[dict]] = {}
    for finding in selectors.findings_for_rows(analysis=analysis, families=families, first=first, last=last):
        by_row.setdefault(finding.row, []).append(_issue(finding))
    width = max(shown.columns, info["columns"] or 0)
    items = [
        {"row": item.number,
         "cells": {issues.column_letter(i): cells.typed(c) for i, c in enumerate(item.cells) if c is not None},
         "findings": by_row.get(item.number, [])}
        for item in shown.rows
    ]
    return {
        "sheet": info["name"], "page": shown.number, "pages": shown.pages, "page_size": shown.size,
        "rows_total": shown.rows_total, "columns": [issues.column_letter(i) for i in range(width)],
        "items": items, "analysis": analysis.status,
    }


# --- profile and report -------------------------------------------------------------------------


@router.get(ONE + "/profile", response_model=schemas.ProfileOut, responses=_RUNNING)
def workbook_profile(
    import_id: uuid.UUID, request: Request, ctx: deps.TenantContext = Depends(deps.tenant_context),
    sheet: str | None = SheetQuery,
):
    """Per column: type and consistency, blanks, distinct values, min/max, top values, formats."""
    ctx.require(roles.Action.READ)
    batch = selectors.import_get(tenant=ctx.tenant, import_id=import_id)
    name = selectors.sheet_resolve(batch=batch, sheet=sheet)["name"]
    analysis = services.analysis_ensure(tenant=ctx.tenant, import_id=batch.pk, sheet=name)
    waiting = _not_ready(analysis, name, request)
    if waiting is not None:
        return waiting
    profile = analysis.profile
    return {"sheet": name, "status": analysis.status, "rows": profile["rows"], "header_row": profile["header_row"],
            "data_rows": profile["data_rows"], "blank_rows": profile["blank_rows"], "columns": profile["columns"]}


@router.get(ONE + "/quality", response_model=schemas.QualityOut, responses=_RUNNING)
def workbook_quality(
    import_id: uuid.UUID, request: Request, ctx: deps.TenantContext = Depends(deps.tenant_context),
    sheet: str | None = SheetQuery,
    code: str | None = Query(None, max_length=40, pattern=r"^[A-Z_]+$"),
    severity: schemas.Literal["error", "warning"] | None = Query(None),
    column: str | None = Query(None, max_length=3, pattern=r"^[A-Za-z]{1,3}$"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """The deterministic findings (rules the tenant switched off are left out), paged, with counts."""
    ctx.require(roles.Action.READ)
    batch = selectors.import_get(tenant=ctx.tenant, import_id=import_id)
    name = selectors.sheet_resolve(batch=batch, sheet=sheet)["name"]
    analysis = services.analysis_ensure(tenant=ctx.tenant, import_id=batch.pk, sheet=name)
    waiting = _not_ready(analysis, name, request)
    if waiting is not None:
        return waiting
    quality_settings = selectors.settings_get(tenant=ctx.tenant)
    families = selectors.enabled_families(quality_settings)
    after = None
    if cursor:
        value = pagination.decode_cursor(cursor, size=1)[0]
        if not value.isdigit():
            raise errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})
        after = int(value)
    found, next_key = selectors.findings_page(analysis=analysis, families=families, limit=limit, after=after,
                                              code=code, severity=severity, column=column)
    counts = {code_: sum(columns.values()) for code_, columns in selectors.counts_for(analysis, families).items()}
    severities = {module.CODE: module.SEVERITY for module in rules.MODULES}
    return {
        "sheet": name, "status": analysis.status, "rows": analysis.rows_total, "header_row": analysis.header_row,
        "counts": counts,
        "errors": sum(n for c, n in counts.items() if severities.get(c) == "error"),
        "warnings": sum(n for c, n in counts.items() if severities.get(c) == "warning"),
        "rules": _rules_out(quality_settings),
        "items": [_issue(finding) for finding in found],
        "next": pagination.encode_cursor([next_key]) if next_key is not None else None,
    }


# --- LLM review ---------------------------------------------------------------------------------


@router.post(ONE + "/reviews", status_code=202, response_model=schemas.ReviewOut,
             responses={409: {"description": "Review off for this tenant, no provider configured, or spend cap reached"}})
def workbook_review_start(
    import_id: uuid.UUID, payload: schemas.ReviewIn, ctx: deps.TenantContext = Depends(deps.tenant_context),
):
    """Ask the model to review the sheet, in the background; poll the review. The deterministic report
    never waits for it. A question asked before (same file content, sheet, prompt and model) is answered
    from the cache at no cost."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    review = services.review_start(tenant=ctx.tenant, actor=ctx.user, import_id=import_id, sheet=payload.sheet)
    location = f"/api/v1/tenants/{ctx.tenant.slug}/imports/{review.batch_id}/workbook/reviews/{review.pk}"
    return JSONResponse(_review_out(review), status_code=202, headers={"Location": location})


@router.get(ONE + "/reviews", response_model=list[schemas.ReviewOut])
def workbook_reviews(import_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """The import's latest reviews (at most 20), newest first."""
    ctx.require(roles.Action.READ)
    batch = selectors.import_get(tenant=ctx.tenant, import_id=import_id)
    return [_review_out(review) for review in selectors.reviews_of_import(tenant=ctx.tenant, batch=batch)]


@router.get(ONE + "/reviews/{review_id}", response_model=schemas.ReviewOut)
def workbook_review(import_id: uuid.UUID, review_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Status and progress; once succeeded, the summary and the model's findings (labelled source=model)."""
    ctx.require(roles.Action.READ)
    return _review_out(selectors.review_get(tenant=ctx.tenant, review_id=review_id, import_id=import_id))


# --- tenant-wide ---------------------------------------------------------------------------------


def _month(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise errors.ValidationError("month is YYYY-MM", field_errors={"month": "YYYY-MM."}) from None


@router.get("/tenants/{tenant}/review-spend", response_model=schemas.SpendOut)
def review_spend(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    month: str | None = Query(None, max_length=7, description="YYYY-MM (default: this month, UTC)"),
):
    """What LLM reviews cost this tenant in the month: money, tokens, reviews, and the cap."""
    ctx.require(roles.Action.READ)
    spend = selectors.review_spend(tenant=ctx.tenant, month=_month(month))
    return {**spend, **{key: schemas.money(spend[key]) for key in ("spent", "reserved", "cap", "remaining")}}


def _settings_out(quality_settings: QualitySettings) -> dict:
    return schemas.QualitySettingsOut(
        rules=_rules_out(quality_settings), review_enabled=quality_settings.review_enabled,
        review_enabled_at=quality_settings.review_enabled_at, review_available=providers.configured(),
        provider=settings.LLM_PROVIDER or None, model=settings.LLM_MODEL or None,
        monthly_cap=schemas.money(selectors.monthly_cap(quality_settings)),
        monthly_cap_is_default=quality_settings.monthly_cap is None,
        notice_version=notice.VERSION, notice=notice.text(),
    ).model_dump(mode="json")


@router.get("/tenants/{tenant}/quality-settings", response_model=schemas.QualitySettingsOut)
def quality_settings_get(ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Which rules run, whether the LLM review is on, its monthly cap, and the notice of what it sends."""
    ctx.require(roles.Action.READ)
    return _settings_out(selectors.settings_get(tenant=ctx.tenant))


@router.put("/tenants/{tenant}/quality-settings", response_model=schemas.QualitySettingsOut)
def quality_settings_update(payload: schemas.QualitySettingsIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Admins and owners: switch rules off or on, the LLM review on (send `notice_accepted` with the
    notice version you read) or off, and the tenant's monthly cap."""
    ctx.require(roles.Action.UPDATE_TENANT)
    updated = services.settings_update(
        tenant=ctx.tenant, actor=ctx.user, disabled_rules=payload.disabled_rules,
        review_enabled=payload.review_enabled, notice_accepted=payload.notice_accepted,
        monthly_cap=payload.monthly_cap, clear_monthly_cap=bool(payload.monthly_cap_default),
    )
    return _settings_out(updated)
