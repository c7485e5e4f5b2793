"""Expected recurring fees: per account, each fee's amount and frequency with its recent periods flagged
(ok, missing, differs) by the fee check (everyone), and create, edit and delete (admins and owners, as in the
API). The rules and the check live in ledger.fees; the fee report downloads are the reports page's."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from coffer import errors
from coffer.ledger import fees as ledger_fees
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger.models import Account, ExpectedFee
from coffer.tenancy import roles
from coffer.web import access, form_errors, forms_fees

ACCOUNT_CHOICES = 100
CHECK_MONTHS = 12  # the check covers the last 12 months up to today, as the API's default


@dataclasses.dataclass
class FeeRow:
    fee: ExpectedFee
    periods: list[ledger_fees.FeePeriod]

    @property
    def problems(self) -> int:
        return sum(1 for p in self.periods if p.status != "ok")


@dataclasses.dataclass
class AccountFees:
    account: Account
    rows: list[FeeRow]


def _check_from(today: dt.date) -> dt.date:
    index = today.year * 12 + today.month - 1 - (CHECK_MONTHS - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def _grouped(found: list[ExpectedFee], periods: list[ledger_fees.FeePeriod]) -> list[AccountFees]:
    """Fees by account (the selector's order), each with its periods newest first."""
    by_fee: dict = {}
    for period in periods:
        by_fee.setdefault(period.fee.pk, []).append(period)
    groups: list[AccountFees] = []
    for fee in found:
        if not groups or groups[-1].account.pk != fee.account_id:
            groups.append(AccountFees(account=fee.account, rows=[]))
        groups[-1].rows.append(FeeRow(fee=fee, periods=sorted(by_fee.get(fee.pk, []), key=lambda p: p.period_start,
                                                              reverse=True)))
    return groups


@require_GET
@access.tenant_view()
def fee_list(request, tenant):
    today = timezone.localdate()
    date_from = _check_from(today)
    found = ledger_fees.expected_fee_list(tenant=tenant)
    periods = ledger_fees.fee_check(tenant=tenant, date_from=date_from, date_to=today) if found else []
    return access.page(request, "web/fees/list.html", {
        "groups": _grouped(found, periods), "count": len(found), "date_from": date_from, "today": today,
        "nav": "fees", "can_manage": request.coffer.allows(roles.Action.MANAGE_BUDGETS),
        "limit": ledger_fees.MAX_EXPECTED_FEES_PER_TENANT,
    })


def _form_page(request, form, fee=None):
    return access.page(request, "web/fees/form.html", {"form": form, "fee": fee, "nav": "fees"},
                       status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def fee_create(request, tenant):
    accounts, _ = ledger_selectors.account_page(tenant=tenant, limit=ACCOUNT_CHOICES)
    form = forms_fees.ExpectedFeeForm(request.POST or None, accounts=accounts,
                                      categories=ledger_selectors.category_tree(tenant=tenant),
                                      initial={"account": request.GET.get("account", "")})
    if request.method == "POST" and form.is_valid():
        try:
            fee = ledger_fees.expected_fee_create(tenant=tenant, actor=request.user, **form.service_fields())
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Expected fee “{fee.name}” added.")
            return redirect("web:fee_list", tenant_slug=tenant.slug)
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def fee_edit(request, tenant, fee_id):
    fee = ledger_fees.expected_fee_get(tenant=tenant, fee_id=fee_id)
    form = forms_fees.ExpectedFeeForm.for_fee(fee, request.POST or None,
                                              categories=ledger_selectors.category_tree(tenant=tenant))
    if request.method == "POST" and form.is_valid():
        try:
            fee = ledger_fees.expected_fee_update(tenant=tenant, actor=request.user, fee_id=fee.pk,
                                                  changes=form.service_fields())
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Expected fee “{fee.name}” saved.")
            return redirect("web:fee_list", tenant_slug=tenant.slug)
    return _form_page(request, form, fee)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def fee_delete(request, tenant, fee_id):
    fee = ledger_fees.expected_fee_get(tenant=tenant, fee_id=fee_id)
    if request.method == "POST":
        ledger_fees.expected_fee_delete(tenant=tenant, actor=request.user, fee_id=fee.pk)
        messages.success(request, f"Expected fee “{fee.name}” deleted.")
        return redirect("web:fee_list", tenant_slug=tenant.slug)
    return access.page(request, "web/fees/delete.html", {"fee": fee, "nav": "fees"})
