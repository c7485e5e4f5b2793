"""A tenant's accounts: list, detail with its transactions, create, edit, archive (admins and owners)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.insights import selectors as insights
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles
from coffer.web import access, charts, form_errors, forms_ledger, paging

BALANCE_MONTHS = 12


@require_GET
@access.tenant_view()
def account_list(request, tenant):
    include_archived = request.GET.get("archived") == "1"
    try:
        after = paging.after(request, size=2)
        accounts, next_key = ledger_selectors.account_page(
            tenant=tenant, limit=paging.PAGE_SIZE, include_archived=include_archived, after=after
        )
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    context = {
        "accounts": accounts, "include_archived": include_archived, "nav": "accounts",
        "more_url": paging.more_url(request.path, request.GET, next_key),
    }
    if request.htmx and after is not None:
        return render(request, "web/partials/account_rows.html", {"coffer": request.coffer, **context})
    return access.page(request, "web/account_list.html", context)


@require_GET
@access.tenant_view()
def account_detail(request, tenant, account_id):
    account = ledger_selectors.account_get(tenant=tenant, account_id=account_id)
    rows, next_key = ledger_selectors.transaction_page(tenant=tenant, limit=paging.PAGE_SIZE, account_id=account.pk)
    list_url = reverse("web:transaction_list", kwargs={"tenant_slug": tenant.slug})
    more_url = paging.more_url(list_url, QueryDict(f"account={account.pk}"), next_key)
    forms_ledger.CategoryIndex(ledger_selectors.category_tree(tenant=tenant, include_archived=True)).label_rows(rows)
    history = insights.balance_history(account=account, months=BALANCE_MONTHS)
    return access.page(request, "web/account_detail.html", {
        "account": account, "rows": rows, "more_url": more_url, "nav": "accounts", "show_account": False,
        "balance_chart": charts.balance_line(history),
    })


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_ACCOUNTS)
def account_create(request, tenant):
    form = forms_ledger.AccountForm(request.POST or None, initial={"currency": tenant.base_currency})
    if request.method == "POST" and form.is_valid():
        try:
            account = ledger_services.account_create(tenant=tenant, actor=request.user, **form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Account “{account.name}” created.")
            return redirect("web:account_detail", tenant_slug=tenant.slug, account_id=account.pk)
    return access.page(request, "web/account_form.html", {"form": form, "nav": "accounts"},
                       status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_ACCOUNTS)
def account_edit(request, tenant, account_id):
    account = ledger_selectors.account_get(tenant=tenant, account_id=account_id)
    form = forms_ledger.AccountForm.for_account(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = ledger_services.account_update(
                tenant=tenant, actor=request.user, account_id=account.pk, changes=form.cleaned_data
            )
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Account “{account.name}” saved.")
            return redirect("web:account_detail", tenant_slug=tenant.slug, account_id=account.pk)
    return access.page(request, "web/account_form.html", {"form": form, "account": account, "nav": "accounts"},
                       status=422 if form.errors else 200)


@require_POST
@access.tenant_view(roles.Action.MANAGE_ACCOUNTS)
def account_archive(request, tenant, account_id):
    archived = request.POST.get("archived", "1") == "1"
    account = ledger_services.account_update(
        tenant=tenant, actor=request.user, account_id=account_id, changes={"archived": archived}
    )
    messages.success(request, f"Account “{account.name}” {'archived' if archived else 'restored'}.")
    return redirect("web:account_detail", tenant_slug=tenant.slug, account_id=account.pk)
