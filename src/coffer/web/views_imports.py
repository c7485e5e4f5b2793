"""A tenant's imports: history, upload (one or several files), the import's page with its live progress,
commit, undo, retry, and the error report. Review (mapping, issue view, row edits) is views_import_review.

Viewers read everything; members and above upload, commit, undo and retry. Every view goes through
access.tenant_view (404 for strangers, 403 for a role), and every change through coffer.imports.services.
"""

from __future__ import annotations

import os
import tempfile

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from coffer import errors
from coffer.imports import report, selectors, services
from coffer.imports.models import ImportBatch
from coffer.ledger import selectors as ledger_selectors
from coffer.tenancy import roles
from coffer.web import access, form_errors, forms_imports, imports_display, paging

WRITE = roles.Action.WRITE_TRANSACTIONS
ACCOUNT_CHOICES = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _detail_url(tenant, batch) -> str:
    return reverse("web:import_detail", kwargs={"tenant_slug": tenant.slug, "import_id": batch.pk})


# --- history and upload ----------------------------------------------------------------


@require_GET
@access.tenant_view()
def import_list(request, tenant):
    status = request.GET.get("status") or None
    if status is not None and status not in ImportBatch.Status.values:
        status = None
    try:
        after = paging.after(request, size=2)
        batches, next_key = selectors.import_page(tenant=tenant, limit=paging.PAGE_SIZE, after=after, status=status)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    context = {
        "batches": batches, "status": status, "statuses": ImportBatch.Status.choices, "nav": "imports",
        "more_url": paging.more_url(request.path, request.GET, next_key),
    }
    if request.htmx and after is not None:
        return render(request, "web/imports/partials/history_rows.html", {"coffer": request.coffer, **context})
    return access.page(request, "web/imports/list.html", context)


@csrf_exempt  # checked by _upload, once the size-limited upload handler is in place
@require_http_methods(["GET", "POST"])
@access.tenant_view(WRITE)  # refused before the body is read
def import_upload(request, tenant):
    handler = forms_imports.SizeLimitedUploadHandler(request)
    request.upload_handlers = [handler]
    return _upload(request, tenant, handler)


@csrf_protect
def _upload(request, tenant, handler):
    accounts, _ = ledger_selectors.account_page(tenant=tenant, limit=ACCOUNT_CHOICES)
    bound = request.method == "POST"
    form = forms_imports.UploadForm(
        request.POST if bound else None, request.FILES if bound else None, accounts=accounts,
        too_large=handler.too_large, initial={"account": request.GET.get("account", "")},
    )
    if bound and form.is_valid():
        created = []
        for upload in form.cleaned_data["files"]:
            try:
                created.append(services.import_create(
                    tenant=tenant, actor=request.user, account_id=form.cleaned_data["account"],
                    file_name=upload.name, content=upload, sheet=form.cleaned_data["sheet"],
                ))
            except errors.DomainError as exc:
                form_errors.add_domain_errors(form, exc)
                break
        if not form.errors:
            if len(created) == 1:
                messages.success(request, f"“{created[0].file_name}” uploaded; Coffer is reading it.")
                target = _detail_url(tenant, created[0])
            else:
                messages.success(request, f"{len(created)} files uploaded; each is read as its own import.")
                target = reverse("web:import_list", kwargs={"tenant_slug": tenant.slug})
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
        if created:
            messages.warning(request, f"{len(created)} of the files were uploaded before the error; see Imports.")
    context = {"form": form, "accounts": accounts, "nav": "imports"}
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, "web/imports/partials/upload_form.html", {"coffer": request.coffer, **context},
                      status=status)
    return access.page(request, "web/imports/upload.html", context, status=status)


# --- one import ------------------------------------------------------------------------------


@require_GET
@access.tenant_view()
def import_detail(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    context = imports_display.status_context(tenant=tenant, batch=batch)
    return access.page(request, "web/imports/detail.html", {**context, "nav": "imports"})


@require_GET
@access.tenant_view()
def import_status(request, tenant, import_id):
    """The status card alone: polled every second while the job runs (it stops polling once finished)."""
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    template = "review_bar" if request.GET.get("part") == "bar" else "status"
    return render(request, f"web/imports/partials/{template}.html",
                  {"coffer": request.coffer, **imports_display.status_context(tenant=tenant, batch=batch)})


def _act(request, tenant, import_id, action, done: str):
    try:
        batch = action(tenant=tenant, actor=request.user, import_id=import_id)
    except (errors.Conflict, errors.ValidationError) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(batch=batch))
    return redirect("web:import_detail", tenant_slug=tenant.slug, import_id=import_id)


@require_POST
@access.tenant_view(WRITE)
def import_commit(request, tenant, import_id):
    selectors.import_get(tenant=tenant, import_id=import_id)  # 404 before anything else
    # In the background: the page follows the "committing" status with its live progress.
    return _act(request, tenant, import_id, services.import_commit_start,
                "Committing “{batch.file_name}”: the rows are being written.")


@require_POST
@access.tenant_view(WRITE)
def import_undo(request, tenant, import_id):
    selectors.import_get(tenant=tenant, import_id=import_id)
    return _act(request, tenant, import_id, services.import_undo,
                "Undone: the transactions of “{batch.file_name}” were removed.")


@require_POST
@access.tenant_view(WRITE)
def import_retry(request, tenant, import_id):
    selectors.import_get(tenant=tenant, import_id=import_id)
    return _act(request, tenant, import_id, services.import_retry, "Reading “{batch.file_name}” again.")


# --- the error report (the same files as the API's) ------------------------------------------------


def _attachment(response, name: str):
    response["Content-Disposition"] = f'attachment; filename="{name}"'  # report.safe_file_name: no quotes
    return response


async def _csv_body(*, tenant, batch_id, columns: int):
    header = report.csv_chunks([], columns=columns)
    yield next(header)
    after = None
    while True:
        rows, after = await sync_to_async(report.issue_row_page)(tenant=tenant, batch_id=batch_id, after=after)
        body = report.csv_chunks([rows], columns=columns)
        next(body)  # the header, sent once above
        for chunk in body:
            yield chunk
        if after is None:
            return


async def _file_body(handle, block: int = 256 * 1024):
    with handle:
        while chunk := await sync_to_async(handle.read)(block):
            yield chunk


@require_GET
@access.tenant_view()
def import_report_csv(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    body = _csv_body(tenant=tenant, batch_id=batch.pk, columns=imports_display.column_count(batch))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    return _attachment(response, report.safe_file_name(batch.file_name, suffix="csv"))


@require_GET
@access.tenant_view()
def import_report_xlsx(request, tenant, import_id):
    batch = selectors.import_get(tenant=tenant, import_id=import_id)
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="coffer-report-")
    os.close(handle)
    try:
        report.write_xlsx(report.issue_row_pages(tenant=tenant, batch_id=batch.pk), path,
                          columns=imports_display.column_count(batch))
    except BaseException:
        os.unlink(path)
        raise
    handle = open(path, "rb")  # noqa: SIM115 - closed by _file_body (or when collected, if never sent)
    os.unlink(path)  # the open handle keeps the data until it is closed: nothing is left behind
    response = StreamingHttpResponse(_file_body(handle), content_type=XLSX)
    response["Content-Length"] = str(os.fstat(handle.fileno()).st_size)
    return _attachment(response, report.safe_file_name(batch.file_name, suffix="xlsx"))
