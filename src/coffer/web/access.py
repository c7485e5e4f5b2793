"""Who may see which tenant page: the one place web views resolve the tenant and the role.

`tenant_view(action)` wraps a view taking `(request, tenant, ...)`: the caller must be signed in
and a member of the tenant in the URL (slug), else 404 — a tenant you are not in looks exactly like
one that does not exist; a member whose role does not allow `action` gets the 403 page. Domain
errors that escape a view are translated here too: NotFound -> 404, PermissionDenied -> 403.
"""

from __future__ import annotations

import dataclasses
import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from coffer import errors
from coffer.ops import context as ops_context
from coffer.tenancy import roles
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy.models import Membership, Tenant
from coffer.web import fragments as web_fragments


@dataclasses.dataclass(frozen=True)
class TenantPage:
    """What every tenant page knows: the tenant, the caller's role, and the switcher's entries."""

    tenant: Tenant
    membership: Membership
    memberships: list[Membership]

    @property
    def role(self) -> str:
        return self.membership.role

    def allows(self, action: str) -> bool:
        return roles.role_allows(self.role, action)

    @property
    def can_manage_accounts(self) -> bool:
        return self.allows(roles.Action.MANAGE_ACCOUNTS)

    @property
    def can_write_transactions(self) -> bool:
        return self.allows(roles.Action.WRITE_TRANSACTIONS)

    @property
    def can_read_audit(self) -> bool:
        return self.allows(roles.Action.READ_AUDIT)

    @property
    def can_manage_members(self) -> bool:
        return self.allows(roles.Action.MANAGE_MEMBERS)

    @property
    def can_update_tenant(self) -> bool:
        return self.allows(roles.Action.UPDATE_TENANT)

    @property
    def can_manage_tenant(self) -> bool:
        return self.allows(roles.Action.MANAGE_TENANT)

    @functools.cached_property
    def fragments(self) -> str:
        """What every cached template fragment of this page varies on (web/fragments.py)."""
        return web_fragments.vary(self.tenant)


def tenant_view(action: str = roles.Action.READ):
    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, tenant_slug: str, *args, **kwargs):
            try:
                membership = tenancy_selectors.membership_get(user=request.user, tenant_ref=tenant_slug)
            except errors.NotFound:
                raise Http404("No such tenant") from None
            ops_context.bind(tenant=membership.tenant, user=request.user)
            if not roles.role_allows(membership.role, action):
                raise PermissionDenied("Your role does not allow this.")
            memberships, _ = tenancy_selectors.me_memberships(user=request.user)
            request.coffer = TenantPage(tenant=membership.tenant, membership=membership, memberships=memberships)
            try:
                return view(request, membership.tenant, *args, **kwargs)
            except errors.NotFound as exc:
                raise Http404(exc.message) from None
            except errors.PermissionDenied as exc:
                raise PermissionDenied(exc.message) from None

        return wrapper

    return decorate


def page(request, template: str, context: dict | None = None, *, status: int = 200):
    """Render a tenant page with the tenant context every layout needs."""
    return render(request, template, {"coffer": request.coffer, **(context or {})}, status=status)
