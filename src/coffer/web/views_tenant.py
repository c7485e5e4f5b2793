"""A tenant's dashboard and organization page."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.views.decorators.http import require_GET

from coffer.audit import selectors as audit_selectors
from coffer.imports import selectors as import_selectors
from coffer.insights import selectors as insights
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger import selectors as ledger_selectors
from coffer.tenancy import selectors as tenancy_selectors
from coffer.web import access, charts, forms_ledger

DASHBOARD_ACCOUNTS = 100
RECENT_TRANSACTIONS = 10
MEMBERS_SHOWN = 50
AUDIT_SHOWN = 20
RECENT_IMPORTS = 5
CASHFLOW_MONTHS = 12


def _totals(accounts) -> list[tuple[str, Decimal]]:
    totals: dict[str, Decimal] = {}
    for account in accounts:
        totals[account.currency] = totals.get(account.currency, Decimal("0")) + account.balance
    return sorted(totals.items())


def _spending(request, tenant, accounts) -> dict:
    """The "spending by category" card: the chosen period (this month by default) and a chart per currency."""
    form = forms_ledger.SpendingPeriodForm(request.GET)
    period = form.period_for(timezone.localdate()) if accounts else None
    found = insights.spending_by_category(tenant=tenant, start=period.start, end=period.end) if period else {}
    return {"spending_form": form, "spending_period": period,
            "spending": [(currency, charts.category_bars(lines)) for currency, lines in found.items()]}


@require_GET
@access.tenant_view()
def dashboard(request, tenant):
    accounts, more_accounts = ledger_selectors.account_page(tenant=tenant, limit=DASHBOARD_ACCOUNTS)
    recent, _ = ledger_selectors.transaction_page(tenant=tenant, limit=RECENT_TRANSACTIONS) if accounts else ([], None)
    imports, _ = import_selectors.import_page(tenant=tenant, limit=RECENT_IMPORTS) if accounts else ([], None)
    flows = insights.monthly_cashflow(tenant=tenant, months=CASHFLOW_MONTHS) if accounts else {}
    currency = request.GET.get("currency")
    currency = currency if currency in flows else next(iter(_totals(accounts)), (None,))[0]
    return access.page(request, "web/dashboard.html", {
        "accounts": accounts, "more_accounts": more_accounts is not None, "totals": _totals(accounts),
        "recent": recent, "imports": imports, "nav": "dashboard",
        "currencies": list(flows), "cashflow_currency": currency,
        "cashflow": charts.cashflow_bars(flows[currency]) if currency in flows else None,
        **_spending(request, tenant, accounts),
        "budget_alerts": ledger_budgets.budget_alerts(tenant, timezone.localdate()) if accounts else [],
    })


@require_GET
@access.tenant_view()
def organization(request, tenant):
    members, more_members = tenancy_selectors.member_page(tenant=tenant, limit=MEMBERS_SHOWN)
    audit = []
    if request.coffer.can_read_audit:
        audit, _ = audit_selectors.audit_page(tenant=tenant, limit=AUDIT_SHOWN)
    return access.page(request, "web/organization.html", {
        "members": members, "more_members": more_members is not None, "audit": audit, "nav": "organization",
    })
