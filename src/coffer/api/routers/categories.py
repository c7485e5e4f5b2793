"""Categories of a tenant: /api/v1/tenants/{tenant}/categories.

Two levels deep, listed whole as a tree (a tenant has at most 500). Everyone reads;
admins and owners create, rename, move, archive and delete.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps
from coffer.api.routing import CofferRouter
from coffer.api.schemas import categories as schemas
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles

router = CofferRouter(tags=["categories"])

BASE = "/tenants/{tenant}/categories"


def _out(category) -> dict:
    return schemas.CategoryOut.model_validate(category).model_dump(mode="json")


@router.get(BASE, response_model=schemas.CategoryTree)
def category_tree(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    archived: bool = Query(False, description="Include archived categories (and the subcategories of archived ones)"),
):
    """Every category as a tree (one list, never paged: a tenant has at most 500)."""
    ctx.require(roles.Action.READ)
    top = ledger_selectors.category_tree(tenant=ctx.tenant, include_archived=archived)
    return {"items": [schemas.CategoryNode.model_validate(row).model_dump(mode="json") for row in top]}


@router.post(BASE, status_code=201, response_model=schemas.CategoryOut)
def category_create(payload: schemas.CategoryIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """A top-level category (`kind` required) or a subcategory of a top-level one (its kind). Names are unique
    under one parent, case-insensitively (409). 409 past 500 categories."""
    ctx.require(roles.Action.MANAGE_CATEGORIES)
    category = ledger_services.category_create(tenant=ctx.tenant, actor=ctx.user, **payload.model_dump())
    return _out(category)


@router.get(BASE + "/{category_id}", response_model=schemas.CategoryOut)
def category_detail(category_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _out(ledger_selectors.category_get(tenant=ctx.tenant, category_id=category_id))


@router.patch(BASE + "/{category_id}", response_model=schemas.CategoryOut)
def category_update(
    category_id: uuid.UUID, payload: schemas.CategoryPatch, ctx: deps.TenantContext = Depends(deps.tenant_context)
):
    """Rename, move (`parent_id`, null for top-level), change kind or color, archive. A subcategory takes its new
    parent's kind; a top-level category's kind change carries to its subcategories. Archived categories take no
    new transactions."""
    ctx.require(roles.Action.MANAGE_CATEGORIES)
    category = ledger_services.category_update(
        tenant=ctx.tenant, actor=ctx.user, category_id=category_id, changes=payload.model_dump(exclude_unset=True)
    )
    return _out(category)


@router.delete(BASE + "/{category_id}", status_code=204, response_class=Response)
def category_delete(
    category_id: uuid.UUID,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    reassign_to: uuid.UUID | None = Query(
        None, description="Move the category's transactions to this category; without it they become uncategorized"
    ),
):
    """Its transactions become uncategorized, or move to `reassign_to`. Refused (409) while the category has
    subcategories: move or delete them first."""
    ctx.require(roles.Action.MANAGE_CATEGORIES)
    ledger_services.category_delete(tenant=ctx.tenant, actor=ctx.user, category_id=category_id, reassign_to=reassign_to)
    return Response(status_code=204)
