"""Accounts of a tenant: /api/v1/tenants/{tenant}/accounts."""

from __future__ import annotations

import uuid

from fastapi import Depends, Header, Query, Request, Response

from coffer.api import deps, idempotency, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import ledger as schemas
from coffer.api.schemas.common import Page
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles

router = CofferRouter(tags=["accounts"])

BASE = "/tenants/{tenant}/accounts"


def _out(account) -> dict:
    return schemas.AccountOut.model_validate(account).model_dump(mode="json")


@router.get(BASE, response_model=Page[schemas.AccountOut])
def account_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    archived: bool = Query(False, description="Include archived accounts"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = ledger_selectors.account_page(tenant=ctx.tenant, limit=limit, include_archived=archived, after=after)
    return {"items": [_out(row) for row in rows], "next": pagination.encode_cursor(next_key) if next_key else None}


@router.post(BASE, status_code=201, response_model=schemas.AccountOut)
def account_create(
    payload: schemas.AccountIn,
    request: Request,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    idempotency_key: str | None = Header(None, alias=idempotency.HEADER),
):
    ctx.require(roles.Action.MANAGE_ACCOUNTS)

    def create():
        account = ledger_services.account_create(tenant=ctx.tenant, actor=ctx.user, **payload.model_dump())
        return 201, _out(account)

    return idempotency.respond(
        key=idempotency_key, user=ctx.user, method=request.method, path=request.url.path, payload=payload, call=create
    )


@router.get(BASE + "/{account_id}", response_model=schemas.AccountOut)
def account_detail(account_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _out(ledger_selectors.account_get(tenant=ctx.tenant, account_id=account_id))


@router.patch(BASE + "/{account_id}", response_model=schemas.AccountOut)
def account_update(
    account_id: uuid.UUID, payload: schemas.AccountPatch, ctx: deps.TenantContext = Depends(deps.tenant_context)
):
    ctx.require(roles.Action.MANAGE_ACCOUNTS)
    account = ledger_services.account_update(
        tenant=ctx.tenant, actor=ctx.user, account_id=account_id, changes=payload.model_dump(exclude_unset=True)
    )
    return _out(account)


@router.delete(BASE + "/{account_id}", status_code=204, response_class=Response)
def account_delete(account_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_ACCOUNTS)
    ledger_services.account_delete(tenant=ctx.tenant, actor=ctx.user, account_id=account_id)
    return Response(status_code=204)
