"""The tenant's exchange-rate table: rates newest first with "older rates" (everyone), add and delete (admins
and owners, as in the API). Reports convert into the tenant's base currency with them; the rules (known
currencies, positive rates, one rate per pair and day) live in ledger.exchange_rates."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from coffer import errors
from coffer.ledger import exchange_rates
from coffer.tenancy import roles
from coffer.web import access, form_errors, forms_fees, paging


def rate_text(rate: Decimal) -> str:
    """The stored rate without its padding zeros (1.0850000000 -> 1.085), never in exponent form."""
    return f"{rate.normalize():f}"


def _page(request, tenant, form, *, status: int = 200):
    try:
        after = paging.after(request, size=2)
        rows, next_key = exchange_rates.rate_page(tenant=tenant, limit=paging.PAGE_SIZE, after=after)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    can_manage = request.coffer.allows(roles.Action.MANAGE_BUDGETS)
    return access.page(request, "web/rates/list.html", {
        "rates": [(row, rate_text(row.rate)) for row in rows], "form": form if can_manage else None,
        "can_manage": can_manage, "nav": "reports",
        "base": tenant.base_currency, "first_page": after is None,
        "more_url": paging.more_url(request.path, request.GET, next_key),
    }, status=status)


@require_GET
@access.tenant_view()
def rate_list(request, tenant):
    form = forms_fees.ExchangeRateForm(initial={"date": timezone.localdate(), "to_currency": tenant.base_currency})
    return _page(request, tenant, form)


@require_POST
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def rate_create(request, tenant):
    form = forms_fees.ExchangeRateForm(request.POST)
    if form.is_valid():
        try:
            row = exchange_rates.rate_create(tenant=tenant, actor=request.user, **form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
            if isinstance(exc, errors.Conflict):
                form.add_error(None, exc.message)
        else:
            messages.success(request, f"Rate added: 1 {row.from_currency} = {rate_text(row.rate)} "
                                      f"{row.to_currency} on {row.date:%d %b %Y}.")
            return redirect("web:rate_list", tenant_slug=tenant.slug)
    return _page(request, tenant, form, status=422)


@require_POST
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def rate_delete(request, tenant, rate_id):
    exchange_rates.rate_delete(tenant=tenant, actor=request.user, rate_id=rate_id)
    if request.htmx:
        return HttpResponse("")  # the row is swapped out for nothing
    messages.success(request, "Rate deleted.")
    return redirect("web:rate_list", tenant_slug=tenant.slug)
