"""Changing data quality: starting and running analyses, and a tenant's quality settings.

An analysis is a cache of what a file's content says (profile, findings, row store): starting
one is not audited, and it is started by whoever first asks for a profile or a report. The
tenant's settings (rules switched off, the LLM review switched on after the notice, its spend
cap) are audited, one entry per change.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from coffer import errors
from coffer.audit import services as audit_services
from coffer.imports import readers
from coffer.quality import analysis as sheet_analysis
from coffer.quality import jobs, rules, selectors
from coffer.quality.models import Finding, QualitySettings, Review, SheetAnalysis
from coffer.tenancy.models import Tenant, User

logger = logging.getLogger(__name__)

Status = SheetAnalysis.Status
STALE_AFTER = dt.timedelta(minutes=10)  # a queued/running analysis untouched this long is started again
_BULK = 2000


# --- analysis ---------------------------------------------------------------------------------


def analysis_ensure(*, tenant: Tenant, import_id: Any, sheet: str | None) -> SheetAnalysis:
    """The analysis of this import's sheet; started in the background when there is none yet
    (or when a worker died on it). Another tenant's import is NotFound."""
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    info = selectors.sheet_resolve(batch=batch, sheet=sheet)
    name = info["name"] or ""
    key = {"sha256": batch.sha256, "sheet": name, "version": sheet_analysis.VERSION}
    found = SheetAnalysis.objects.filter(**key).first()
    if found is None:
        try:
            with transaction.atomic():
                found = SheetAnalysis.objects.create(**key, file_path=batch.file_path, rows_total=info["rows"] or 0)
                created_id = found.pk
                transaction.on_commit(lambda: jobs.enqueue_analysis(created_id))
        except IntegrityError:  # a concurrent request created it first
            return SheetAnalysis.objects.get(**key)
        found.refresh_from_db()  # an in-process job may have run it already
        return found
    if found.status in (Status.QUEUED, Status.RUNNING) and found.updated_at < timezone.now() - STALE_AFTER:
        requeued = SheetAnalysis.objects.filter(pk=found.pk, updated_at=found.updated_at).update(
            status=Status.QUEUED, file_path=batch.file_path, updated_at=timezone.now(),
        )
        if requeued:
            jobs.enqueue_analysis(found.pk)
            found.refresh_from_db()
    return found


def _claim(analysis_id: Any) -> SheetAnalysis | None:
    with transaction.atomic():
        found = SheetAnalysis.objects.select_for_update().filter(pk=analysis_id).first()
        if found is None or found.status != Status.QUEUED:
            return None  # done, failed, or another worker has it
        found.status = Status.RUNNING
        found.attempts += 1
        found.started_at = timezone.now()
        found.rows_read = 0
        found.error = ""
        found.save(update_fields=["status", "attempts", "started_at", "rows_read", "error", "updated_at"])
        return found


def analysis_run(*, analysis_id: Any) -> None:
    """The job: read the sheet once, profile it, run every rule, store the findings. Idempotent."""
    found = _claim(analysis_id)
    if found is None:
        return
    path = Path(settings.MEDIA_ROOT) / found.file_path

    def progress(rows: int) -> None:
        SheetAnalysis.objects.filter(pk=found.pk).update(rows_read=rows, updated_at=timezone.now())

    try:
        workbook = readers.open_workbook(path, limits=readers.ImportLimits.from_settings())
        try:
            result = sheet_analysis.analyse(
                workbook, found.sheet or None, store=selectors.store_folder(found.sha256), progress=progress,
            )
        finally:
            workbook.close()
    except readers.UnreadableFile as exc:
        _fail(found, exc.message)
        return
    except FileNotFoundError:
        _fail(found, "The uploaded file is no longer stored; upload it again")
        return
    except Exception:
        logger.exception("analysis %s failed", found.pk)
        _fail(found, "The analysis stopped on an unexpected error; it has been logged")
        return
    with transaction.atomic():
        Finding.objects.filter(analysis=found).delete()
        batch: list[Finding] = []
        for issue in result.findings:
            batch.append(Finding(
                analysis=found, family=rules.CODES.get(issue.code, ""), row=issue.row, column=issue.column or "",
                code=issue.code, severity=issue.severity, message=issue.message[:500],
                value=issue.value[:1000] if issue.value is not None else None,
            ))
            if len(batch) >= _BULK:
                Finding.objects.bulk_create(batch)
                batch = []
        if batch:
            Finding.objects.bulk_create(batch)
        SheetAnalysis.objects.filter(pk=found.pk).update(
            status=Status.READY, rows_read=result.rows, rows_total=result.rows, header_row=result.header_row,
            profile=result.profile, counts=result.counts, finished_at=timezone.now(), updated_at=timezone.now(),
        )


def _fail(found: SheetAnalysis, message: str) -> None:
    SheetAnalysis.objects.filter(pk=found.pk).update(
        status=Status.FAILED, error=message, finished_at=timezone.now(), updated_at=timezone.now(),
    )


# --- tenant settings -----------------------------------------------------------------------------

def settings_update(
    *, tenant: Tenant, actor: User | None, disabled_rules: list[str] | None = None,
    review_enabled: bool | None = None, notice_accepted: str | None = None,
    monthly_cap: Decimal | str | None = None, clear_monthly_cap: bool = False,
) -> QualitySettings:
    """Switch rule families, the LLM review (on only with the current notice accepted) and the spend cap."""
    if disabled_rules is not None:
        unknown = sorted(set(disabled_rules) - set(rules.FAMILIES))
        if unknown:
            raise errors.ValidationError(
                f"Unknown rule {unknown[0]!r}; the rules are {', '.join(rules.FAMILIES)}",
                field_errors={"disabled_rules": f"Unknown rule {unknown[0]!r}."},
            )
    cap: Decimal | None = None
    if monthly_cap is not None:
        try:
            cap = Decimal(str(monthly_cap))
        except InvalidOperation:
            cap = None
        if cap is None or not cap.is_finite() or cap < 0 or cap >= Decimal("100000000"):
            raise errors.ValidationError("The monthly cap is an amount of 0 or more, such as \"25.00\"",
                                         field_errors={"monthly_cap": "An amount of 0 or more."})
    from coffer.quality.review import notice

    if review_enabled and notice_accepted != notice.VERSION:
        raise errors.ValidationError(
            "Read the notice of what leaves the server, then accept it to turn the review on",
            field_errors={"notice_accepted": f"Accept notice version {notice.VERSION}."},
        )
    with transaction.atomic():
        current, _ = QualitySettings.objects.select_for_update().get_or_create(tenant=tenant)
        fields = ["disabled_rules", "review_enabled", "review_notice_version", "monthly_cap"]
        before = audit_services.snapshot(current, fields)
        if disabled_rules is not None:
            current.disabled_rules = [family for family in rules.FAMILIES if family in set(disabled_rules)]
        if review_enabled is not None and review_enabled != current.review_enabled:
            current.review_enabled = review_enabled
            current.review_notice_version = notice.VERSION if review_enabled else ""
            current.review_enabled_at = timezone.now() if review_enabled else None
            current.review_enabled_by = actor if review_enabled else None
        if cap is not None:
            current.monthly_cap = cap
        elif clear_monthly_cap:
            current.monthly_cap = None
        current.save()
        changes = audit_services.diff(before, audit_services.snapshot(current, fields))
        if changes:
            audit_services.audit_record(tenant=tenant, actor=actor, action="quality.settings", instance=current,
                                        changes=changes)
    return current


# --- LLM review ----------------------------------------------------------------------------------


def review_start(*, tenant: Tenant, actor: User | None, import_id: Any, sheet: str | None) -> Review:
    """Start an LLM review of the import's sheet in the background (one audit entry).

    Refused (Conflict, nothing recorded) when the tenant has not turned the review on, no provider
    is configured, or the month's spend plus what running reviews hold plus this review's worst
    case would pass the tenant's cap. A question answered before is served from the cache at once,
    at no cost and whatever the cap."""
    from coffer.quality.review import prompt, providers, runner

    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    info = selectors.sheet_resolve(batch=batch, sheet=sheet)
    name = info["name"] or ""
    config = providers.Config.from_settings()
    problem = config.problem()
    if problem:
        raise errors.Conflict(f"The AI review is not available: {problem}")
    analysis_ensure(tenant=tenant, import_id=batch.pk, sheet=info["name"])
    with transaction.atomic():
        current = QualitySettings.objects.select_for_update().filter(tenant=tenant).first()
        if current is None or not current.review_enabled:
            raise errors.Conflict("The AI review is off for this tenant; an admin can turn it on in the "
                                  "data-quality settings after reading what it sends")
        review = Review(
            tenant=tenant, batch=batch, created_by=actor, sha256=batch.sha256, sheet=name,
            provider=config.provider, model=config.model, prompt_version=prompt.PROMPT_VERSION,
        )
        hit = runner.cache_get(sha256=batch.sha256, sheet=name, provider=config.provider, model=config.model)
        if hit is not None:
            review.status, review.progress, review.stage = Review.Status.SUCCEEDED, 100, "Done (from the cache)"
            review.cached, review.result = True, hit.result
            review.started_at = review.finished_at = timezone.now()
        else:
            worst = runner.worst_case_cost()
            spend = selectors.review_spend(tenant=tenant)
            if spend["spent"] + spend["reserved"] + worst > spend["cap"]:
                raise errors.Conflict(
                    f"The monthly AI review budget of {_amount(spend['cap'])} is reached: {_amount(spend['spent'])} "
                    f"spent in {spend['month']}, {_amount(spend['reserved'])} held by reviews still running, and one "
                    f"review may cost up to {_amount(worst)}. An admin can raise the cap, or wait for next month."
                )
            review.reserved = worst
        review.save(force_insert=True)
        audit_services.audit_record(
            tenant=tenant, actor=actor, action="quality.review.start", instance=review,
            changes=audit_services.created_changes(review, ["batch", "sheet", "provider", "model", "reserved",
                                                            "cached"]),
        )
        if not review.cached:
            review_id = review.pk
            transaction.on_commit(lambda: jobs.enqueue_review(review_id))
    return review


def _amount(value: Decimal) -> str:
    """0.25 -> "0.25", 0.302880 -> "0.30288", 0 -> "0.00": at least two decimals, no trailing zeros past them."""
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"
