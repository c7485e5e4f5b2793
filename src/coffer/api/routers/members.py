"""Members of a tenant: /api/v1/tenants/{tenant}/members."""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps, pagination
from coffer.api.routers import organizations
from coffer.api.routing import CofferRouter
from coffer.api.schemas import tenancy as schemas
from coffer.api.schemas.common import Page
from coffer.tenancy import roles
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services

router = CofferRouter(tags=["members"])

BASE = "/tenants/{tenant}/members"


def _out(membership) -> dict:
    return schemas.MemberOut.model_validate(membership).model_dump(mode="json")


@router.get(BASE, response_model=Page[schemas.MemberOut], summary="List the members of a tenant")
def member_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Every member can see who else is in the tenant, in the order they joined."""
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = tenancy_selectors.member_page(tenant=ctx.tenant, limit=limit, after=after)
    return {"items": [_out(row) for row in rows], "next": pagination.encode_cursor(next_key) if next_key else None}


@router.patch(BASE + "/{membership_id}", response_model=schemas.MemberOut, summary="Change a member's role (admin+)")
def member_update(
    membership_id: uuid.UUID, payload: schemas.MemberPatch, ctx: deps.TenantContext = Depends(deps.tenant_context)
):
    """Only owners change owners or make owners (403 for admins); the last owner cannot be demoted (409)."""
    organizations.require_session(ctx)
    ctx.require(roles.Action.MANAGE_MEMBERS)
    membership = tenancy_services.membership_update(
        tenant=ctx.tenant, actor=ctx.user, membership_id=membership_id, role=payload.role
    )
    return _out(membership)


@router.delete(BASE + "/{membership_id}", status_code=204, response_class=Response,
               summary="Remove a member, or leave with your own membership id")
def member_remove(membership_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Admins remove members (owners only by owners); anyone may leave, except the last owner (409)."""
    organizations.require_session(ctx)
    tenancy_services.membership_remove(tenant=ctx.tenant, actor=ctx.user, membership_id=membership_id)
    return Response(status_code=204)
