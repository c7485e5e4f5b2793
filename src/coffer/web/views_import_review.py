"""Reviewing an import before commit: the mapping editor, the issue view (the spreadsheet's own rows with
offending cells highlighted), inline cell edits, excluding rows and accepting warnings, one row or many.

Every HTMX endpoint is also a plain page or a plain POST with a redirect, so each action works without
JavaScript. Reading is for every member; changing is for members and above, and only while in review
(the services refuse otherwise, with a message shown to the person).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from coffer import errors
from coffer.imports import selectors, services
from coffer.imports.models import ImportBatch
from coffer.tenancy import roles
from coffer.web import access, form_errors, forms_imports, imports_display

WRITE = roles.Action.WRITE_TRANSACTIONS
ROWS_PER_PAGE = 100
SIDE_LIST_MAX = 300  # issues listed beside one page of rows
CHANGED = "import-changed"  # the event that makes the issue view's summary bar refresh itself


def _issues_url(tenant, batch) -> str:
    return reverse("web:import_issues", kwargs={"tenant_slug": tenant.slug, "import_id": batch.pk})


def _here(request, tenant, batch) -> str:
    """The issue view a request came from (`next`), filters kept; only ever this import's issue view."""
    base = _issues_url(tenant, batch)
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith(base) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return base


def _back(request, tenant, batch, row_number: int | None = None) -> str:
    """Where a plain (non-HTMX) POST returns."""
    target = _here(request, tenant, batch)
    return f"{target}#row-{row_number}" if row_number else target


def _can_review(request, batch: ImportBatch) -> bool:
    return request.coffer.can_write_transactions and batch.status == ImportBatch.Status.REVIEW


def _mapping_errors(form, exc: errors.DomainError) -> None:
    """The service names mapping fields ("date": "Required."); say them as a person reads them."""
    for field, message in exc.field_errors.items():
        if field in form.fields:
            form.add_error(field, message)
        else:
            label = forms_imports.FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
            form.add_error(None, f"{label}: {message}")
    if not exc.field_errors:
        form.add_error(None, exc.message)


# --- mapping ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@access.tenant_view()
def import_mapping(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    editable = request.coffer.can_write_transactions and batch.status in (ImportBatch.Status.REVIEW,
                                                                          ImportBatch.Status.FAILED)
    if request.method == "POST" and not request.coffer.can_write_transactions:
        raise PermissionDenied("Your role does not allow this.")
    found = imports_display.preview(batch)
    widest = max([len(found["header"]), *(len(row) for row in found["samples"])], default=0)
    columns = max(imports_display.column_count(batch), widest)
    form = forms_imports.MappingForm(request.POST if request.method == "POST" else None, batch=batch, columns=columns)
    if request.method == "POST" and form.is_valid():
        try:
            services.import_mapping_replace(
                tenant=tenant, actor=request.user, import_id=batch.pk, mapping=form.mapping(),
                header_row=form.cleaned_data["header_row"], sheet=form.cleaned_data.get("sheet") or None,
            )
            if form.cleaned_data["remember"]:
                services.import_mapping_save_preset(tenant=tenant, actor=request.user, import_id=batch.pk)
        except (errors.ValidationError, errors.Conflict) as exc:
            _mapping_errors(form, exc)
        else:
            messages.success(request, "Mapping saved; every row is being checked again.")
            return redirect("web:import_detail", tenant_slug=tenant.slug, import_id=batch.pk)
    return access.page(request, "web/imports/mapping.html", {
        "batch": batch, "form": form, "columns": imports_display.mapping_columns(form, found),
        "preview_error": found["error"], "editable": editable, "nav": "imports",
        "confidence": round(batch.mapping_confidence * 100) if batch.mapping_confidence is not None else None,
    }, status=422 if form.errors else 200)


# --- the issue view -----------------------------------------------------------------------


@require_GET
@access.tenant_view()
def import_issues(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    form = forms_imports.IssueFilterForm(request.GET)
    rows, last = [], None
    if form.is_valid():
        chosen = form.selection()
        if chosen["show"] == "issues":
            rows, last = selectors.staged_issue_row_page(
                tenant=tenant, import_id=batch.pk, limit=ROWS_PER_PAGE, after=chosen["after"], code=chosen["code"],
                severity=chosen["severity"],
            )
        else:
            rows, last = selectors.staged_row_page(
                tenant=tenant, import_id=batch.pk, limit=ROWS_PER_PAGE, after=chosen["after"],
                only="excluded" if chosen["show"] == "excluded" else None,
            )
    columns = imports_display.column_count(batch, rows)
    views = [imports_display.row_view(row, columns=columns) for row in rows]
    next_url = None
    if last is not None:
        params = request.GET.copy()
        params["start"] = str(last + 1)
        next_url = f"{request.path}?{params.urlencode()}"
    side = [(view.number, issue) for view in views for issue in view.issues][:SIDE_LIST_MAX]
    first_url = None
    if request.GET.get("start"):
        params = request.GET.copy()
        del params["start"]
        first_url = f"{request.path}?{params.urlencode()}"
    return access.page(request, "web/imports/issues.html", {
        **imports_display.status_context(tenant=tenant, batch=batch), **_sheet_context(request, batch, columns),
        "form": form, "views": views, "side": side,
        "next_url": next_url, "first_url": first_url, "here": request.get_full_path(),
        "filtered": any(request.GET.get(name) for name in ("show", "code", "severity")),
        "nav": "imports",
    })


def _sheet_context(request, batch, columns: int) -> dict:
    mapped = imports_display.mapped_fields(batch)
    letters = [selectors.column_letter(index) for index in range(columns)]
    return {"batch": batch, "can_review": _can_review(request, batch),
            "headers": [(letter, mapped.get(letter, "")) for letter in letters]}


def _row_response(request, tenant, batch, row, *, changed: bool = False, error: str = "", status: int = 200):
    columns = imports_display.column_count(batch, [row])
    response = render(request, "web/imports/partials/issue_row.html", {
        **_sheet_context(request, batch, columns), "coffer": request.coffer,
        "view": imports_display.row_view(row, columns=columns), "row_error": error,
        "here": _here(request, tenant, batch),
    }, status=status)
    return trigger_client_event(response, CHANGED) if changed else response


@require_GET
@access.tenant_view()
def import_row(request, tenant, import_id, row_number: int):
    """One row as the issue view shows it (what "Cancel" of an inline edit swaps back in)."""
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    row = selectors.staged_row_get(tenant=tenant, import_id=batch.pk, row_number=row_number)
    return _row_response(request, tenant, batch, row)


@require_http_methods(["GET", "POST"])
@access.tenant_view(WRITE)
def import_row_edit(request, tenant, import_id, row_number: int):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    row = selectors.staged_row_get(tenant=tenant, import_id=batch.pk, row_number=row_number)
    columns = imports_display.column_count(batch, [row])
    form = forms_imports.RowEditForm(
        request.POST if request.method == "POST" else None, cells=imports_display.padded_cells(row, columns=columns),
        headers=imports_display.mapped_fields(batch), form_id=f"edit-row-{row.row_number}",
    )
    if request.method == "POST" and form.is_valid():
        changed = form.changed_cells()
        try:
            if changed:
                row = services.import_row_update(tenant=tenant, actor=request.user, import_id=batch.pk,
                                                 row_number=row.row_number, cells=changed)
        except (errors.ValidationError, errors.Conflict) as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            if request.htmx:
                return _row_response(request, tenant, batch, row, changed=bool(changed))
            messages.success(request, f"Row {row.row_number} saved." if changed else "Nothing changed.")
            return redirect(_back(request, tenant, batch, row.row_number))
    context = {**_sheet_context(request, batch, columns), "coffer": request.coffer, "form": form, "row": row,
               "here": _here(request, tenant, batch)}
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, "web/imports/partials/issue_edit_row.html", context, status=status)
    return access.page(request, "web/imports/row_edit.html", {**context, "nav": "imports"}, status=status)


@require_POST
@access.tenant_view(WRITE)
def import_row_flags(request, tenant, import_id, row_number: int):
    """Exclude/include the row, import a flagged duplicate anyway, accept its warnings."""
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    row = selectors.staged_row_get(tenant=tenant, import_id=batch.pk, row_number=row_number)
    form = forms_imports.RowFlagsForm(request.POST)
    flags = form.flags() if form.is_valid() else {}
    error = "" if flags else "Nothing to change."
    if flags:
        try:
            row = services.import_row_update(tenant=tenant, actor=request.user, import_id=batch.pk,
                                             row_number=row.row_number, **flags)
        except (errors.ValidationError, errors.Conflict) as exc:
            error = exc.message
    if request.htmx:
        return _row_response(request, tenant, batch, row, changed=not error, error=error,
                             status=422 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(_back(request, tenant, batch, row.row_number))


@require_POST
@access.tenant_view(WRITE)
def import_rows_bulk(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    form = forms_imports.BulkRowsForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(message for found in form.errors.values() for message in found))
        return redirect(_back(request, tenant, batch))
    try:
        count = services.import_rows_update(tenant=tenant, actor=request.user, import_id=batch.pk,
                                            row_numbers=form.cleaned_data["rows"], **form.flags())
    except (errors.ValidationError, errors.Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, form.done(count))
    return redirect(_back(request, tenant, batch))
