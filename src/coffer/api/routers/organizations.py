"""Tenants and organizations: /api/v1/tenants, /api/v1/organizations, /api/v1/tenants/{tenant}.

Managing a tenant needs a signed-in person: personal access tokens read, but never manage people
or the organization itself.
"""

from __future__ import annotations

from fastapi import Depends, Query, Response

from coffer import errors
from coffer.api import deps, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import tenancy as schemas
from coffer.api.schemas.common import Page
from coffer.tenancy import roles
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services

router = CofferRouter(tags=["organizations"])

BASE = "/tenants/{tenant}"


def require_session(ctx: deps.TenantContext) -> None:
    if ctx.principal.api_token is not None:
        raise errors.PermissionDenied("Personal access tokens cannot manage the organization or its members; sign in")


def _tenant_out(tenant, role: str) -> dict:
    return schemas.TenantOut(
        id=tenant.id, slug=tenant.slug, name=tenant.name, kind=tenant.kind, base_currency=tenant.base_currency,
        created_at=tenant.created_at, role=role,
    ).model_dump(mode="json")


@router.get("/tenants", response_model=Page[schemas.TenantMembershipOut], summary="List the tenants you belong to")
def tenant_list(
    principal: deps.Principal = Depends(deps.current_user_session),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Your personal space and organizations by name, each with your role."""
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = tenancy_selectors.tenant_page(user=principal.user, limit=limit, after=after)
    return {
        "items": [schemas.TenantMembershipOut.of(row) for row in rows],
        "next": pagination.encode_cursor(next_key) if next_key else None,
    }


@router.post("/organizations", status_code=201, response_model=schemas.TenantOut, summary="Create an organization")
def organization_create(payload: schemas.OrganizationIn, principal: deps.Principal = Depends(deps.current_user_session)):
    """You become its owner. 409 if the slug is taken."""
    tenant = tenancy_services.organization_create(actor=principal.user, **payload.model_dump())
    return _tenant_out(tenant, roles.Role.OWNER)


@router.get(BASE, response_model=schemas.TenantOut, summary="Read a tenant")
def tenant_detail(ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _tenant_out(ctx.tenant, ctx.role)


@router.patch(BASE, response_model=schemas.TenantOut, summary="Rename a tenant or change its base currency (admin+)")
def tenant_update(payload: schemas.TenantPatch, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    require_session(ctx)
    ctx.require(roles.Action.UPDATE_TENANT)
    tenant = tenancy_services.tenant_update(
        tenant=ctx.tenant, actor=ctx.user, changes=payload.model_dump(exclude_unset=True)
    )
    return _tenant_out(tenant, ctx.role)


@router.delete(BASE, status_code=204, response_class=Response, summary="Delete an organization and all its data (owner)")
def tenant_delete(ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Personal spaces cannot be deleted here (409)."""
    require_session(ctx)
    ctx.require(roles.Action.MANAGE_TENANT)
    tenancy_services.tenant_delete(tenant=ctx.tenant, actor=ctx.user)
    return Response(status_code=204)


@router.post(BASE + "/transfer-ownership", response_model=schemas.MemberOut,
             summary="Hand the organization to another member (owner)")
def ownership_transfer(payload: schemas.OwnershipTransferIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """The member becomes owner and you become admin. 422 if `user_id` is not a member."""
    require_session(ctx)
    ctx.require(roles.Action.MANAGE_TENANT)
    membership = tenancy_services.ownership_transfer(tenant=ctx.tenant, actor=ctx.user, user_id=payload.user_id)
    return schemas.MemberOut.model_validate(membership).model_dump(mode="json")
