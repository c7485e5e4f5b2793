"""A team in an organization for the people-and-organization API tests: one person per role,
an extra member and an open invitation; `state` is everything those endpoints could change."""

from __future__ import annotations

from coffer.audit.models import AuditEntry
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Invitation, Membership, Tenant
from tests import factories

ROLES = ("owner", "admin", "member", "viewer")


def tenant_url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}", *map(str, rest)])


def state(tenant) -> tuple:
    """Everything a write endpoint here could change."""
    return (
        list(Tenant.objects.filter(pk=tenant.pk).values_list("name", "base_currency")),
        sorted(Membership.objects.filter(tenant_id=tenant.pk).values_list("id", "role")),
        sorted(Invitation.objects.filter(tenant_id=tenant.pk).values_list("id", "revoked_at", "accepted_at")),
        AuditEntry.objects.filter(tenant_id=tenant.pk).count(),
    )


def make_team(**names):
    people = {role: factories.user(name=role.title()) for role in (*ROLES, "extra")}
    tenant = factories.organization(
        people["owner"], admin=[people["admin"]], member=[people["member"], people["extra"]], viewer=[people["viewer"]],
        **names,
    )
    invitation, _ = tenancy_services.invitation_create(
        tenant=tenant, actor=people["owner"], email="invited@example.test", role="viewer"
    )
    memberships = {role: Membership.objects.get(tenant=tenant, user=person) for role, person in people.items()}
    return {"tenant": tenant, **people, "m": memberships, "invitation": invitation}
