"""A tenant's budgets: the list with each budget's progress in its current period (everyone), and create,
edit and delete (admins and owners). The rules and the figures live in ledger.budgets."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from coffer import errors
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger import selectors as ledger_selectors
from coffer.tenancy import roles
from coffer.web import access, form_errors, forms_budgets


@dataclasses.dataclass(frozen=True)
class Row:
    """A budget's progress and the geometry of its bar (percentages of the bar's width, 0-100)."""

    progress: ledger_budgets.BudgetProgress
    bar: float
    projected_at: float | None  # where the projection ends, when it is inside the bar

    @property
    def budget(self):
        return self.progress.budget


def _share(part: Decimal, whole: Decimal) -> float:
    if whole <= 0:
        return 100.0 if part > 0 else 0.0
    return float(min(max(part * 100 / whole, Decimal(0)), Decimal(100)))


def rows_of(progress: list[ledger_budgets.BudgetProgress]) -> list[Row]:
    return [Row(progress=p, bar=round(_share(p.spent, p.available), 1),
                projected_at=round(_share(p.projected, p.available), 1) if p.projected > p.spent else None)
            for p in progress]


@require_GET
@access.tenant_view()
def budget_list(request, tenant):
    today = timezone.localdate()
    found = ledger_budgets.budget_list(tenant=tenant)
    progress = ledger_budgets.budget_progress(tenant=tenant, budgets=found, on=today)
    return access.page(request, "web/budgets/list.html", {
        "rows": rows_of(progress), "today": today, "nav": "budgets",
        "can_manage": request.coffer.allows(roles.Action.MANAGE_BUDGETS),
        "limit": ledger_budgets.MAX_BUDGETS_PER_TENANT,
        "warning_percent": ledger_budgets.WARNING_PERCENT,
    })


def _form_page(request, form, budget=None):
    return access.page(request, "web/budgets/form.html", {"form": form, "budget": budget, "nav": "budgets"},
                       status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def budget_create(request, tenant):
    categories = ledger_selectors.category_tree(tenant=tenant)
    form = forms_budgets.BudgetForm(request.POST or None, categories=categories,
                                    initial={"currency": tenant.base_currency})
    if request.method == "POST" and form.is_valid():
        try:
            budget = ledger_budgets.budget_create(tenant=tenant, actor=request.user, today=timezone.localdate(),
                                                  **form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Budget for “{budget.category.name}” created.")
            return redirect("web:budget_list", tenant_slug=tenant.slug)
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def budget_edit(request, tenant, budget_id):
    budget = ledger_budgets.budget_get(tenant=tenant, budget_id=budget_id)
    categories = ledger_selectors.category_tree(tenant=tenant)
    form = forms_budgets.BudgetForm.for_budget(budget, request.POST or None, categories=categories)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        if changes["starts_on"] is None:
            changes.pop("starts_on")
        try:
            budget = ledger_budgets.budget_update(tenant=tenant, actor=request.user, budget_id=budget.pk,
                                                  changes=changes)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Budget for “{budget.category.name}” saved.")
            return redirect("web:budget_list", tenant_slug=tenant.slug)
    return _form_page(request, form, budget)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_BUDGETS)
def budget_delete(request, tenant, budget_id):
    budget = ledger_budgets.budget_get(tenant=tenant, budget_id=budget_id)
    if request.method == "POST":
        ledger_budgets.budget_delete(tenant=tenant, actor=request.user, budget_id=budget.pk)
        messages.success(request, f"Budget for “{budget.category.name}” deleted.")
        return redirect("web:budget_list", tenant_slug=tenant.slug)
    return access.page(request, "web/budgets/delete.html", {"budget": budget, "nav": "budgets"})
