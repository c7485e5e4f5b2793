"""A tenant's transactions: filtered list with "load more", add, inline edit (HTMX) and delete.

Every HTMX endpoint is also a plain page, so each action works without JavaScript too.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles
from coffer.web import access, form_errors, formatting, forms_ledger, paging

ACCOUNT_CHOICES = 100  # accounts offered in a form's account list


def _accounts(tenant, *, include_archived: bool):
    accounts, _ = ledger_selectors.account_page(tenant=tenant, limit=ACCOUNT_CHOICES, include_archived=include_archived)
    return accounts


@require_GET
@access.tenant_view()
def transaction_list(request, tenant):
    accounts = _accounts(tenant, include_archived=True)
    form = forms_ledger.TransactionFilterForm(request.GET, accounts=accounts)
    rows, next_key = [], None
    if form.is_valid():
        try:
            after = paging.after(request, size=3)
            rows, next_key = ledger_selectors.transaction_page(
                tenant=tenant, limit=paging.PAGE_SIZE, after=after, **form.selector_filters()
            )
        except paging.BadCursor:
            return HttpResponseBadRequest("Not a cursor from this page.")
        except errors.ValidationError as exc:
            form_errors.add_domain_errors(form, exc)
    context = {
        "form": form, "rows": rows, "nav": "transactions", "show_account": True,
        "more_url": paging.more_url(request.path, request.GET, next_key),
        "filtered": any(request.GET.get(name) for name in form.fields if name != "sort"),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "web/partials/transaction_rows.html", {"coffer": request.coffer, **context})
    return access.page(request, "web/transaction_list.html", context)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.WRITE_TRANSACTIONS)
def transaction_create(request, tenant):
    accounts = _accounts(tenant, include_archived=False)
    initial = {"booked_on": timezone.localdate(), "account": request.GET.get("account", "")}
    form = forms_ledger.TransactionForm(request.POST or None, accounts=accounts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            row = ledger_services.transaction_create(tenant=tenant, actor=request.user, **form.service_fields())
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Transaction of {formatting.money(row.amount)} {row.account.currency} added.")
            return redirect("web:transaction_list", tenant_slug=tenant.slug)
    return access.page(request, "web/transaction_form.html", {"form": form, "accounts": accounts, "nav": "transactions"},
                       status=422 if form.errors else 200)


@require_GET
@access.tenant_view()
def transaction_row(request, tenant, transaction_id):
    """One row as the list shows it (what "Cancel" of an inline edit swaps back in)."""
    row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=transaction_id)
    return render(request, "web/partials/transaction_row.html",
                  {"coffer": request.coffer, "row": row, "show_account": True})


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.WRITE_TRANSACTIONS)
def transaction_edit(request, tenant, transaction_id):
    row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=transaction_id)
    accounts = _accounts(tenant, include_archived=False)
    if row.account.archived and all(a.pk != row.account_id for a in accounts):
        accounts = [row.account, *accounts]
    form = forms_ledger.TransactionForm.for_transaction(row, accounts=accounts, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = ledger_services.transaction_update(
                tenant=tenant, actor=request.user, transaction_id=row.pk, changes=form.service_fields()
            )
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            if request.htmx:
                row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=row.pk)
                return render(request, "web/partials/transaction_row.html",
                              {"coffer": request.coffer, "row": row, "show_account": True})
            messages.success(request, "Transaction saved.")
            return redirect("web:transaction_list", tenant_slug=tenant.slug)
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, "web/partials/transaction_edit_row.html",
                      {"coffer": request.coffer, "row": row, "form": form}, status=status)
    return access.page(request, "web/transaction_form.html",
                       {"form": form, "row": row, "accounts": accounts, "nav": "transactions"}, status=status)


@require_POST
@access.tenant_view(roles.Action.WRITE_TRANSACTIONS)
def transaction_delete(request, tenant, transaction_id):
    ledger_services.transaction_delete(tenant=tenant, actor=request.user, transaction_id=transaction_id)
    if request.htmx:
        return HttpResponse("")  # the row is swapped out for nothing
    messages.success(request, "Transaction deleted.")
    return redirect("web:transaction_list", tenant_slug=tenant.slug)
