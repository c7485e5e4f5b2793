"""A tenant's transactions: filtered list with "load more", add, inline edit (HTMX), delete, bulk edit of the
ticked rows, and export of the current filter as CSV or .xlsx.

Every HTMX endpoint is also a plain page or a plain POST with a redirect, so each action works without
JavaScript too. Viewers read and export; members and above write (the bulk service checks the role again).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles
from coffer.web import access, exports, form_errors, formatting, forms_ledger, paging

ACCOUNT_CHOICES = 100  # accounts offered in a form's account list
TAG_SUGGESTIONS = 100  # tag names offered while typing (a <datalist>)
WRITE = roles.Action.WRITE_TRANSACTIONS


def _accounts(tenant, *, include_archived: bool):
    accounts, _ = ledger_selectors.account_page(tenant=tenant, limit=ACCOUNT_CHOICES, include_archived=include_archived)
    return accounts


def _categories(tenant) -> forms_ledger.CategoryIndex:
    """The whole tree, archived ones too (one query, at most 500 rows): filter and form choices, row labels."""
    return forms_ledger.CategoryIndex(ledger_selectors.category_tree(tenant=tenant, include_archived=True))


def _tag_names(tenant) -> list[str]:
    tags, _ = ledger_selectors.tag_page(tenant=tenant, limit=TAG_SUGGESTIONS)
    return [tag.name for tag in tags]


def _list_url(tenant) -> str:
    return reverse("web:transaction_list", kwargs={"tenant_slug": tenant.slug})


def _bulk(request, tenant) -> bool:
    """Rows get a tick box on the transactions list (not on an account's page, which shares the rows): for
    an HTMX fragment, when the page that asked for it is the list."""
    if not request.coffer.can_write_transactions:
        return False
    if not request.htmx:
        return True
    return (request.htmx.current_url_abs_path or "").startswith(_list_url(tenant))


def _row_context(request, tenant, **context) -> dict:
    bulk = _bulk(request, tenant)
    columns = 4 + int(bulk) + int(request.coffer.can_write_transactions)
    return {"coffer": request.coffer, "show_account": True, "bulk": bulk, "columns": columns, **context}


def _filters(request, tenant, categories):
    """The filter form over the query string, and the selector's filters (None while the form has errors)."""
    form = forms_ledger.TransactionFilterForm(request.GET, accounts=_accounts(tenant, include_archived=True),
                                              categories=categories)
    return form, (form.selector_filters() if form.is_valid() else None)


@require_GET
@access.tenant_view()
def transaction_list(request, tenant):
    categories = _categories(tenant)
    form, filters = _filters(request, tenant, categories)
    rows, next_key = [], None
    if filters is not None:
        try:
            after = paging.after(request, size=3)
            rows, next_key = ledger_selectors.transaction_page(
                tenant=tenant, limit=paging.PAGE_SIZE, after=after, **filters
            )
        except paging.BadCursor:
            return HttpResponseBadRequest("Not a cursor from this page.")
        except errors.ValidationError as exc:
            form_errors.add_domain_errors(form, exc)
    categories.label_rows(rows)
    context = _row_context(
        request, tenant, form=form, rows=rows, nav="transactions",
        more_url=paging.more_url(request.path, request.GET, next_key),
        filtered=any(request.GET.get(name) for name in form.fields if name != "sort"),
    )
    if request.htmx and request.GET.get("cursor"):
        return render(request, "web/partials/transaction_rows.html", context)
    query = request.GET.copy()
    query.pop("cursor", None)
    context.update({
        "export_query": query.urlencode(), "here": request.get_full_path(), "tag_names": _tag_names(tenant),
        "bulk_form": forms_ledger.BulkTransactionsForm(categories=categories, auto_id="bulk_%s")
        if context["bulk"] else None,
        "bulk_max": forms_ledger.BULK_MAX,
    })
    return access.page(request, "web/transaction_list.html", context)


@require_http_methods(["GET", "POST"])
@access.tenant_view(WRITE)
def transaction_create(request, tenant):
    accounts = _accounts(tenant, include_archived=False)
    initial = {"booked_on": timezone.localdate(), "account": request.GET.get("account", "")}
    data = request.POST if request.method == "POST" else None
    form = forms_ledger.TransactionForm(data, accounts=accounts, categories=_categories(tenant), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            row = ledger_services.transaction_create(tenant=tenant, actor=request.user, **form.service_fields())
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Transaction of {formatting.money(row.amount)} {row.account.currency} added.")
            return redirect("web:transaction_list", tenant_slug=tenant.slug)
    return access.page(request, "web/transaction_form.html", {
        "form": form, "accounts": accounts, "nav": "transactions", "tag_names": _tag_names(tenant),
    }, status=422 if form.errors else 200)


def _one_row(request, tenant, transaction_id, *, status: int = 200):
    row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=transaction_id)
    _categories(tenant).label_rows([row])
    return render(request, "web/partials/transaction_row.html", _row_context(request, tenant, row=row), status=status)


@require_GET
@access.tenant_view()
def transaction_row(request, tenant, transaction_id):
    """One row as the list shows it (what "Cancel" of an inline edit swaps back in)."""
    return _one_row(request, tenant, transaction_id)


@require_http_methods(["GET", "POST"])
@access.tenant_view(WRITE)
def transaction_edit(request, tenant, transaction_id):
    row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=transaction_id)
    accounts = _accounts(tenant, include_archived=False)
    if row.account.archived and all(a.pk != row.account_id for a in accounts):
        accounts = [row.account, *accounts]
    categories = _categories(tenant)
    data = request.POST if request.method == "POST" else None
    form = forms_ledger.TransactionForm.for_transaction(row, accounts=accounts, categories=categories, data=data,
                                                        inline=bool(request.htmx))
    if request.method == "POST" and form.is_valid():
        try:
            row = ledger_services.transaction_update(
                tenant=tenant, actor=request.user, transaction_id=row.pk, changes=form.service_fields()
            )
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            if request.htmx:
                return _one_row(request, tenant, row.pk)
            messages.success(request, "Transaction saved.")
            return redirect("web:transaction_list", tenant_slug=tenant.slug)
    status = 422 if form.errors else 200
    tag_names = _tag_names(tenant)
    if request.htmx:
        return render(request, "web/partials/transaction_edit_row.html",
                      _row_context(request, tenant, row=row, form=form, tag_names=tag_names), status=status)
    return access.page(request, "web/transaction_form.html", {
        "form": form, "row": row, "accounts": accounts, "nav": "transactions", "tag_names": tag_names,
    }, status=status)


@require_POST
@access.tenant_view(WRITE)
def transaction_delete(request, tenant, transaction_id):
    ledger_services.transaction_delete(tenant=tenant, actor=request.user, transaction_id=transaction_id)
    if request.htmx:
        return HttpResponse("")  # the row is swapped out for nothing
    messages.success(request, "Transaction deleted.")
    return redirect("web:transaction_list", tenant_slug=tenant.slug)


# --- many at once ----------------------------------------------------------------------


def _back(request, tenant) -> str:
    """The list the bulk bar was on (`next`), filters kept; only ever this tenant's transactions list."""
    base = _list_url(tenant)
    target = request.POST.get("next") or ""
    if target.startswith(base) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return base


@require_POST
@access.tenant_view(WRITE)
def transaction_bulk(request, tenant):
    """Set a category, add or remove a tag, or delete: the ticked rows, all or none (ledger service)."""
    form = forms_ledger.BulkTransactionsForm(request.POST, categories=_categories(tenant))
    if not form.is_valid():
        messages.error(request, " ".join(message for found in form.errors.values() for message in found))
        return redirect(_back(request, tenant))
    try:
        count = ledger_services.transaction_bulk_update(tenant=tenant, actor=request.user, **form.service_fields())
    except (errors.ValidationError, errors.Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, form.done(count))
    return redirect(_back(request, tenant))


# --- export ----------------------------------------------------------------------------


def _export_filters(request, tenant):
    categories = _categories(tenant)
    form, filters = _filters(request, tenant, categories)
    if filters is None:
        problems = "; ".join(f"{form[name].label}: {' '.join(found)}" if name in form.fields else " ".join(found)
                             for name, found in form.errors.items())
        return None, None, HttpResponseBadRequest(f"The filters are not valid: {problems}",
                                                  content_type="text/plain; charset=utf-8")
    return categories, filters, None


def _attachment(response, name: str):
    response["Content-Disposition"] = f'attachment; filename="{name}"'  # exports.file_name: nothing to quote
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@access.tenant_view()
def transaction_export_csv(request, tenant):
    categories, filters, refused = _export_filters(request, tenant)
    if refused:
        return refused
    body = exports.csv_stream(tenant=tenant, filters=filters, labels=categories)
    response = StreamingHttpResponse(body, content_type=exports.CSV_MEDIA_TYPE)
    return _attachment(response, exports.file_name(tenant=tenant, today=timezone.localdate(), suffix="csv"))


@require_GET
@access.tenant_view()
def transaction_export_xlsx(request, tenant):
    categories, filters, refused = _export_filters(request, tenant)
    if refused:
        return refused
    handle = exports.xlsx_file(tenant=tenant, filters=filters, labels=categories)
    size = handle.seek(0, 2)
    handle.seek(0)
    response = StreamingHttpResponse(exports.file_stream(handle), content_type=exports.XLSX_MEDIA_TYPE)
    response["Content-Length"] = str(size)
    return _attachment(response, exports.file_name(tenant=tenant, today=timezone.localdate(), suffix="xlsx"))
