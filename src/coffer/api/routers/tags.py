"""Tags of a tenant: /api/v1/tenants/{tenant}/tags.

Names are unique per tenant, case-insensitively. Everyone reads; admins and owners
create, rename and delete; members put existing tags on transactions (by name).
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import tags as schemas
from coffer.api.schemas.common import Page
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles

router = CofferRouter(tags=["tags"])

BASE = "/tenants/{tenant}/tags"


def _out(tag) -> dict:
    return schemas.TagOut.model_validate(tag).model_dump(mode="json")


@router.get(BASE, response_model=Page[schemas.TagOut])
def tag_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    q: str = Query("", max_length=50, description="Only tags whose name contains this (case-insensitive)"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = ledger_selectors.tag_page(tenant=ctx.tenant, limit=limit, after=after, text=q.strip())
    return {"items": [_out(row) for row in rows], "next": pagination.encode_cursor(next_key) if next_key else None}


@router.post(BASE, status_code=201, response_model=schemas.TagOut)
def tag_create(payload: schemas.TagIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_CATEGORIES)
    return _out(ledger_services.tag_create(tenant=ctx.tenant, actor=ctx.user, name=payload.name))


@router.get(BASE + "/{tag_id}", response_model=schemas.TagOut)
def tag_detail(tag_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _out(ledger_selectors.tag_get(tenant=ctx.tenant, tag_id=tag_id))


@router.patch(BASE + "/{tag_id}", response_model=schemas.TagOut)
def tag_update(tag_id: uuid.UUID, payload: schemas.TagPatch, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Rename: every transaction carrying the tag shows the new name."""
    ctx.require(roles.Action.MANAGE_CATEGORIES)
    tag = ledger_services.tag_update(
        tenant=ctx.tenant, actor=ctx.user, tag_id=tag_id, changes=payload.model_dump(exclude_unset=True)
    )
    return _out(tag)


@router.delete(BASE + "/{tag_id}", status_code=204, response_class=Response)
def tag_delete(tag_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Takes the tag off every transaction, then deletes it."""
    ctx.require(roles.Action.MANAGE_CATEGORIES)
    ledger_services.tag_delete(tenant=ctx.tenant, actor=ctx.user, tag_id=tag_id)
    return Response(status_code=204)
