"""An upload as a workbook: sheet tabs, 100 rows a page with the findings highlighted, the column
profile, the quality report, and the AI review with its cost; plus the tenant's data-quality
settings (rules, the AI review and what it sends, the monthly cap).

Viewers read; members and above ask for an AI review; admins and owners change the settings.
Every view goes through access.tenant_view, every change through coffer.quality.services.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.imports import issues
from coffer.quality import cells, rules, selectors, services
from coffer.quality.models import Review, SheetAnalysis
from coffer.quality.review import notice, providers, runner
from coffer.tenancy import roles
from coffer.web import access

WRITE = roles.Action.WRITE_TRANSACTIONS
MAX_PAGE = 1_000_000
MAX_ROW = 100_000_000


def _int(value: str | None, *, default: int | None, maximum: int) -> int | None:
    if value in (None, ""):
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise ValueError(value)
    return int(value)


def _workbook_url(tenant, batch, **query) -> str:
    url = reverse("web:workbook", kwargs={"tenant_slug": tenant.slug, "import_id": batch.pk})
    query = {key: value for key, value in query.items() if value not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


# --- the workbook page ------------------------------------------------------------------------


def _grid(page, findings, width: int, names: dict[str, str]) -> tuple[list[tuple[str, str]], list[dict]]:
    by_cell: dict[tuple[int, str], list] = {}
    by_row: dict[int, list] = {}
    for finding in findings:
        if finding.column:
            by_cell.setdefault((finding.row, finding.column), []).append(finding)
        else:
            by_row.setdefault(finding.row, []).append(finding)
    letters = [issues.column_letter(i) for i in range(width)]
    rows = []
    for row in page.rows:
        shown = []
        for index, letter in enumerate(letters):
            cell = row.cells[index] if index < len(row.cells) else None
            typed = cells.typed(cell)
            found = by_cell.get((row.number, letter), [])
            severity = ("error" if any(f.severity == "error" for f in found) or (typed and typed["type"] == "error")
                        else "warning" if found else "")
            shown.append({"letter": letter, "value": typed["value"] if typed else "",
                          "type": typed["type"] if typed else "", "severity": severity,
                          "title": " · ".join(f.message for f in found)})
        row_found = by_row.get(row.number, [])
        rows.append({"number": row.number, "cells": shown,
                     "severity": "error" if any(f.severity == "error" for f in row_found)
                     else "warning" if row_found else "",
                     "title": " · ".join(f.message for f in row_found)})
    return [(letter, names.get(letter, "")) for letter in letters], rows


@require_GET
@access.tenant_view()
def workbook(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    try:
        number = _int(request.GET.get("page"), default=1, maximum=MAX_PAGE)
        row = _int(request.GET.get("row"), default=None, maximum=MAX_ROW)
    except ValueError:
        return HttpResponseBadRequest("Pages and rows are whole numbers from 1.")
    context: dict = {"batch": batch, "nav": "imports", "row_asked": row}
    try:
        known = selectors.sheets(batch=batch)
        info = selectors.sheet_resolve(batch=batch, sheet=request.GET.get("sheet") or None)
    except (errors.ValidationError, errors.Conflict) as exc:
        return access.page(request, "web/workbook/page.html", {**context, "unreadable": exc.message}, status=422)
    analysis = services.analysis_ensure(tenant=tenant, import_id=batch.pk, sheet=info["name"])
    try:
        shown = selectors.rows_page(batch=batch, sheet=info, number=number, row=row)
    except (errors.ValidationError, errors.Conflict) as exc:
        return access.page(request, "web/workbook/page.html", {**context, "unreadable": exc.message}, status=422)
    quality_settings = selectors.settings_get(tenant=tenant)
    families = selectors.enabled_families(quality_settings)
    first = shown.rows[0].number if shown.rows else 0
    last = shown.rows[-1].number if shown.rows else -1
    findings = selectors.findings_for_rows(analysis=analysis, families=families, first=first, last=last)
    ready = analysis.status == SheetAnalysis.Status.READY
    profile = analysis.profile if ready else {}
    names = {column["column"]: column["name"] for column in profile.get("columns", [])
             if column["name"] != column["column"]}
    headers, grid = _grid(shown, findings, max(shown.columns, info["columns"] or 0), names)
    sheet = info["name"]
    counts = selectors.counts_for(analysis, families) if ready else {}
    severities = {module.CODE: module for module in rules.MODULES}
    latest = selectors.review_latest(tenant=tenant, batch=batch, sheet=sheet)
    context.update({
        "sheets": known, "sheet": sheet, "info": info, "page": shown, "headers": headers, "grid": grid,
        "findings": findings, "analysis": analysis, "ready": ready, "profile": profile,
        "summary": [{"code": code, "count": sum(columns.values()), "title": severities[code].TITLE,
                     "severity": severities[code].SEVERITY} for code, columns in sorted(counts.items())],
        "review": latest, "review_findings": runner.findings_out(latest) if latest and latest.result else [],
        "review_on": quality_settings.review_enabled, "review_available": providers.configured(),
        "prev_url": _workbook_url(tenant, batch, sheet=sheet, page=shown.number - 1) if shown.number > 1 else None,
        "next_url": (_workbook_url(tenant, batch, sheet=sheet, page=shown.number + 1)
                     if shown.pages is None or shown.number < shown.pages else None),
        "first_url": _workbook_url(tenant, batch, sheet=sheet) if shown.number > 2 else None,
        "last_url": (_workbook_url(tenant, batch, sheet=sheet, page=shown.pages)
                     if shown.pages and shown.number < shown.pages - 1 else None),
        "tab_urls": [(info_["name"], _workbook_url(tenant, batch, sheet=info_["name"]), info_["rows"])
                     for info_ in known],
    })
    return access.page(request, "web/workbook/page.html", context)


@require_GET
@access.tenant_view()
def workbook_status(request, tenant, import_id):
    """The analysis card alone, polled while the sheet is analysed; once ready, the page reloads."""
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    info = selectors.sheet_resolve(batch=batch, sheet=request.GET.get("sheet") or None)
    analysis = services.analysis_ensure(tenant=tenant, import_id=batch.pk, sheet=info["name"])
    if analysis.status == SheetAnalysis.Status.READY:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "web/workbook/partials/analysis.html",
                  {"coffer": request.coffer, "batch": batch, "sheet": info["name"], "analysis": analysis})


# --- the AI review ---------------------------------------------------------------------------------


@require_POST
@access.tenant_view(WRITE)
def workbook_review_start(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    sheet = request.POST.get("sheet") or None
    try:
        review = services.review_start(tenant=tenant, actor=request.user, import_id=batch.pk, sheet=sheet)
    except (errors.Conflict, errors.ValidationError, errors.NotFound) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The AI review was answered from the cache, at no cost." if review.cached
                         else "The AI review has started; this page shows its progress.")
    return redirect(_workbook_url(tenant, batch, sheet=sheet))


@require_GET
@access.tenant_view()
def workbook_review(request, tenant, import_id, review_id):
    """The review card alone, polled while the review runs."""
    review = selectors.review_get(tenant=tenant, review_id=review_id, import_id=import_id)
    response = render(request, "web/workbook/partials/review.html", {
        "coffer": request.coffer, "batch": review.batch, "review": review, "sheet": review.sheet or None,
        "review_findings": runner.findings_out(review) if review.result else [],
        "review_on": True, "review_available": True,
    })
    if review.status in (Review.Status.SUCCEEDED, Review.Status.FAILED) and request.GET.get("polling"):
        response["HX-Refresh"] = "true"  # the grid shows nothing new, but the cost and findings list do
    return response


# --- settings ------------------------------------------------------------------------------------------


class QualitySettingsForm(forms.Form):
    enabled_rules = forms.MultipleChoiceField(
        label="Rules that run", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(item["family"], f"{item['title']} — {item['description']}") for item in rules.describe()],
    )
    review_enabled = forms.BooleanField(label="Turn the AI review on for this space", required=False)
    notice_accepted = forms.BooleanField(
        label="I have read what the AI review sends to the model provider (above) and accept it", required=False,
    )
    monthly_cap = forms.DecimalField(
        label="Monthly spend cap for AI reviews", required=False, min_value=0, max_digits=12, decimal_places=4,
        help_text="Leave empty for the server's default.",
    )

    def clean(self):
        data = super().clean()
        if data.get("review_enabled") and not data.get("notice_accepted") and not self.initial.get("review_enabled"):
            self.add_error("notice_accepted", "Accept the notice to turn the AI review on.")
        return data


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.UPDATE_TENANT)
def quality_settings(request, tenant):
    current = selectors.settings_get(tenant=tenant)
    initial = {"enabled_rules": selectors.enabled_families(current), "review_enabled": current.review_enabled,
               "monthly_cap": current.monthly_cap}
    form = QualitySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.settings_update(
                tenant=tenant, actor=request.user,
                disabled_rules=[family for family in rules.FAMILIES if family not in data["enabled_rules"]],
                review_enabled=data["review_enabled"],
                notice_accepted=notice.VERSION if data["notice_accepted"] or current.review_enabled else None,
                monthly_cap=data["monthly_cap"], clear_monthly_cap=data["monthly_cap"] is None,
            )
        except errors.ValidationError as exc:
            for field, message in exc.field_errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, "Data-quality settings saved.")
            return redirect("web:quality_settings", tenant_slug=tenant.slug)
    spend = selectors.review_spend(tenant=tenant)
    return access.page(request, "web/workbook/settings.html", {
        "form": form, "notice": notice.text(), "spend": spend, "nav": "organization",
        "review_available": providers.configured(), "default_cap": selectors.default_monthly_cap(),
    }, status=422 if form.errors else 200)
