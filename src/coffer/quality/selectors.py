"""Reading data quality: tenant-scoped through the import, bounded, paged.

Every entry point takes the tenant and an import id and resolves the import within that
tenant first (imports.selectors.import_get: another tenant's id is NotFound), so the
content-keyed analyses behind it are only reached through an upload the caller may see.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone

from coffer import errors
from coffer.imports import selectors as imports_selectors
from coffer.imports import staging
from coffer.imports.models import ImportBatch
from coffer.quality import analysis as sheet_analysis
from coffer.quality import rowstore, rules, viewer
from coffer.quality.models import Finding, QualitySettings, Review, SheetAnalysis
from coffer.tenancy.models import Tenant

MAX_PAGE_SIZE = 100
MAX_ROW_FINDINGS = 2000  # findings shown with one page of rows
SHEETS_CACHE_SECONDS = 24 * 3600


# --- settings ---------------------------------------------------------------------------


def settings_get(*, tenant: Tenant) -> QualitySettings:
    """The tenant's quality settings; the defaults (every rule on, review off) when never saved."""
    found = QualitySettings.objects.filter(tenant=tenant).first()
    return found if found is not None else QualitySettings(tenant=tenant)


def enabled_families(quality_settings: QualitySettings) -> list[str]:
    disabled = set(quality_settings.disabled_rules or [])
    return [family for family in rules.FAMILIES if family not in disabled]


def default_monthly_cap() -> Decimal:
    return Decimal(str(settings.LLM_MONTHLY_SPEND_CAP))


def monthly_cap(quality_settings: QualitySettings) -> Decimal:
    if quality_settings.monthly_cap is not None:
        return quality_settings.monthly_cap
    return default_monthly_cap()


# --- the upload and its sheets ---------------------------------------------------------------


def import_get(*, tenant: Tenant, import_id: Any) -> ImportBatch:
    return imports_selectors.import_get(tenant=tenant, import_id=import_id)


def file_path(batch: ImportBatch) -> Path:
    return staging.file_path(batch)


def store_folder(sha256: str) -> Path:
    return rowstore.directory(Path(settings.MEDIA_ROOT), sha256)


def sheets(*, batch: ImportBatch) -> list[dict[str, Any]]:
    """[{"name", "rows", "columns", "visible"}] of the upload (cached by content; a CSV is one sheet named None)."""
    key = f"quality:sheets:{batch.sha256}"
    found = cache.get(key)
    if found is None:
        path = file_path(batch)
        if not path.exists():
            raise errors.Conflict("The uploaded file is no longer stored; upload it again")
        found = [{"name": info.name, "rows": info.rows, "columns": info.columns, "visible": info.visible}
                 for info in viewer.sheets(path)]
        cache.set(key, found, SHEETS_CACHE_SECONDS)
    return found


def sheet_resolve(*, batch: ImportBatch, sheet: str | None) -> dict[str, Any]:
    """The sheet asked for (by name), or by default the import's sheet, else the first visible one."""
    known = sheets(batch=batch)
    if len(known) == 1 and known[0]["name"] is None:  # CSV
        if sheet:
            raise errors.ValidationError("A CSV file has one unnamed sheet; leave the sheet out",
                                         field_errors={"sheet": "A CSV file has no named sheets."})
        return known[0]
    if sheet:
        for info in known:
            if info["name"] == sheet:
                return info
        names = ", ".join(repr(info["name"]) for info in known)
        raise errors.NotFound(f"The file has no sheet named {sheet!r}; its sheets are {names}")
    for info in known:
        if info["name"] == batch.sheet:
            return info
    visible = [info for info in known if info["visible"]] or known
    return visible[0]


# --- analysis ------------------------------------------------------------------------------


def analysis_get(*, batch: ImportBatch, sheet: str | None) -> SheetAnalysis | None:
    return SheetAnalysis.objects.filter(
        sha256=batch.sha256, sheet=sheet or "", version=sheet_analysis.VERSION
    ).first()


def counts_for(analysis: SheetAnalysis, families: list[str]) -> dict[str, dict[str, int]]:
    """The analysis's finding counts per code and column, for the enabled families only."""
    return {code: columns for code, columns in (analysis.counts or {}).items()
            if rules.CODES.get(code) in families}


def findings_page(
    *, analysis: SheetAnalysis, families: list[str], limit: int, after: int | None = None,
    code: str | None = None, severity: str | None = None, column: str | None = None,
) -> tuple[list[Finding], int | None]:
    """Findings in sheet order (row, then as found), keyset-paged by id; next key or None."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(f"limit must be between 1 and {MAX_PAGE_SIZE}",
                                     field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."})
    query = Finding.objects.filter(analysis=analysis, family__in=families)
    if code:
        query = query.filter(code=code)
    if severity:
        query = query.filter(severity=severity)
    if column:
        query = query.filter(column=column.upper())
    if after is not None:
        query = query.filter(id__gt=after)
    found = list(query.order_by("id")[: limit + 1])
    next_key = found[limit - 1].id if len(found) > limit else None
    return found[:limit], next_key


def findings_for_rows(*, analysis: SheetAnalysis | None, families: list[str], first: int, last: int) -> list[Finding]:
    if analysis is None or analysis.status != SheetAnalysis.Status.READY:
        return []
    return list(
        Finding.objects.filter(analysis=analysis, family__in=families, row__gte=first, row__lte=last)
        .order_by("row", "id")[:MAX_ROW_FINDINGS]
    )


# --- viewer ----------------------------------------------------------------------------------


def rows_page(*, batch: ImportBatch, sheet: dict[str, Any], number: int, row: int | None) -> viewer.Page:
    path = file_path(batch)
    if not path.exists():
        raise errors.Conflict("The uploaded file is no longer stored; upload it again")
    return viewer.page(path, sheet=sheet["name"], store=store_folder(batch.sha256), number=number, row=row,
                       rows_total=sheet["rows"])


# --- reviews and spend -------------------------------------------------------------------------


def review_get(*, tenant: Tenant, review_id: Any, import_id: Any | None = None) -> Review:
    review_uuid = imports_selectors.parse_uuid(review_id)
    query = Review.objects.filter(tenant=tenant, pk=review_uuid) if review_uuid else Review.objects.none()
    if import_id is not None:
        query = query.filter(batch_id=imports_selectors.parse_uuid(import_id))
    review = query.first()
    if review is None:
        raise errors.NotFound("No such review")
    return review


def reviews_of_import(*, tenant: Tenant, batch: ImportBatch, limit: int = 20) -> list[Review]:
    return list(Review.objects.filter(tenant=tenant, batch=batch).order_by("-created_at", "-id")[:limit])


def month_bounds(month: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the calendar month (UTC) holding `month` (default: now)."""
    day = month or timezone.now().date()
    start = dt.datetime(day.year, day.month, 1, tzinfo=dt.timezone.utc)
    days = calendar.monthrange(day.year, day.month)[1]
    return start, start + dt.timedelta(days=days)


def review_spend(*, tenant: Tenant, month: dt.date | None = None) -> dict[str, Any]:
    """Money spent (and held by running reviews) on reviews this month, with tokens and the cap."""
    start, end = month_bounds(month)
    totals = Review.objects.filter(tenant=tenant, created_at__gte=start, created_at__lt=end).aggregate(
        cost=models.Sum("cost"), reserved=models.Sum("reserved"), input_tokens=models.Sum("input_tokens"),
        output_tokens=models.Sum("output_tokens"), reviews=models.Count("id"),
        cached=models.Count("id", filter=models.Q(cached=True)),
    )
    quality_settings = settings_get(tenant=tenant)
    spent = totals["cost"] or Decimal("0")
    reserved = totals["reserved"] or Decimal("0")
    cap = monthly_cap(quality_settings)
    return {
        "month": start.strftime("%Y-%m"),
        "spent": spent,
        "reserved": reserved,
        "cap": cap,
        "remaining": max(Decimal("0"), cap - spent - reserved),
        "reviews": totals["reviews"],
        "cached_reviews": totals["cached"],
        "input_tokens": totals["input_tokens"] or 0,
        "output_tokens": totals["output_tokens"] or 0,
        "review_enabled": quality_settings.review_enabled,
    }


def review_latest(*, tenant: Tenant, batch: ImportBatch, sheet: str | None) -> Review | None:
    """The newest LLM review of this import's sheet, if any (tenant-scoped)."""
    return Review.objects.filter(tenant=tenant, batch=batch, sheet=sheet or "").order_by("-created_at").first()
