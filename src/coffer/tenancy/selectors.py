"""Reading people, tenants and memberships."""

from __future__ import annotations

import uuid

from coffer import errors
from coffer.tenancy.models import Invitation, Membership, Tenant, User


def _tenant_filter(tenant_ref: str) -> dict:
    try:
        return {"tenant_id": uuid.UUID(tenant_ref)}
    except ValueError:
        return {"tenant__slug": tenant_ref}


def membership_get(*, user: User, tenant_ref: str) -> Membership:
    """The caller's membership in the tenant given by slug or id; NotFound when not a member
    (so a tenant the caller does not belong to looks exactly like one that does not exist)."""
    membership = (
        Membership.objects.select_related("tenant").filter(user=user, **_tenant_filter(tenant_ref)).first()
    )
    if membership is None:
        raise errors.NotFound("No such tenant")
    return membership


def memberships_of_user(*, user: User):
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__kind", "tenant__name", "tenant_id")


def tenant_members(*, tenant: Tenant):
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("created_at", "id")


def owner_count(*, tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, role="owner").count()


def tenant_invitations(*, tenant: Tenant):
    return Invitation.objects.filter(tenant=tenant).select_related("invited_by").order_by("-created_at", "-id")
