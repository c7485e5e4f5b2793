"""A tenant's dashboard and organization page."""

from __future__ import annotations

from decimal import Decimal

from django.views.decorators.http import require_GET

from coffer.audit import selectors as audit_selectors
from coffer.ledger import selectors as ledger_selectors
from coffer.tenancy import selectors as tenancy_selectors
from coffer.web import access

DASHBOARD_ACCOUNTS = 100
RECENT_TRANSACTIONS = 10
MEMBERS_SHOWN = 50
AUDIT_SHOWN = 20


def _totals(accounts) -> list[tuple[str, Decimal]]:
    totals: dict[str, Decimal] = {}
    for account in accounts:
        totals[account.currency] = totals.get(account.currency, Decimal("0")) + account.balance
    return sorted(totals.items())


@require_GET
@access.tenant_view()
def dashboard(request, tenant):
    accounts, more_accounts = ledger_selectors.account_page(tenant=tenant, limit=DASHBOARD_ACCOUNTS)
    recent, _ = ledger_selectors.transaction_page(tenant=tenant, limit=RECENT_TRANSACTIONS) if accounts else ([], None)
    return access.page(request, "web/dashboard.html", {
        "accounts": accounts, "more_accounts": more_accounts is not None, "totals": _totals(accounts),
        "recent": recent, "nav": "dashboard",
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
