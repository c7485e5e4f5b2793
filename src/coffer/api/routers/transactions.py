"""Transactions of a tenant: /api/v1/tenants/{tenant}/transactions.

`category_id` is a category of the tenant (setting it makes `category_source` "manual");
`tags` are tag *names* (case-insensitive, existing tags only) both ways, and a list sent
on create or update replaces the transaction's tags.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import Depends, Header, Query, Request, Response

from coffer.api import deps, idempotency, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import ledger as schemas
from coffer.api.schemas.common import MoneyIn, Page
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles

router = CofferRouter(tags=["transactions"])

BASE = "/tenants/{tenant}/transactions"


def _out(row) -> dict:
    return schemas.TransactionOut.model_validate(row).model_dump(mode="json")


@router.get(BASE, response_model=Page[schemas.TransactionOut])
def transaction_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    account: uuid.UUID | None = Query(None, description="Only this account's transactions"),
    booked_from: dt.date | None = Query(None, description="Booked on or after this date"),
    booked_to: dt.date | None = Query(None, description="Booked on or before this date"),
    amount_min: MoneyIn | None = Query(None, description="Amount at least this (decimal string)"),
    amount_max: MoneyIn | None = Query(None, description="Amount at most this (decimal string)"),
    q: str = Query("", max_length=200, description="Text in description, counterparty or reference"),
    category: str | None = Query(
        None, max_length=36,
        description="A category id (a top-level category includes its subcategories), or 'uncategorized'",
    ),
    tag: str | None = Query(None, max_length=50, description="Only transactions carrying this tag (name, case-insensitive)"),
    sort: schemas.TransactionSort = Query("-booked_on"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=3) if cursor else None
    rows, next_key = ledger_selectors.transaction_page(
        tenant=ctx.tenant, limit=limit, sort=sort, after=after, account_id=account, booked_from=booked_from,
        booked_to=booked_to, amount_min=amount_min, amount_max=amount_max, text=q.strip(), category=category, tag=tag,
    )
    return {"items": [_out(row) for row in rows], "next": pagination.encode_cursor(next_key) if next_key else None}


@router.post(BASE, status_code=201, response_model=schemas.TransactionOut)
def transaction_create(
    payload: schemas.TransactionIn,
    request: Request,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    idempotency_key: str | None = Header(None, alias=idempotency.HEADER),
):
    ctx.require(roles.Action.WRITE_TRANSACTIONS)

    def create():
        row = ledger_services.transaction_create(tenant=ctx.tenant, actor=ctx.user, **payload.model_dump())
        return 201, _out(row)

    return idempotency.respond(
        key=idempotency_key, user=ctx.user, method=request.method, path=request.url.path, payload=payload, call=create
    )


@router.get(BASE + "/{transaction_id}", response_model=schemas.TransactionOut)
def transaction_detail(transaction_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _out(ledger_selectors.transaction_get(tenant=ctx.tenant, transaction_id=transaction_id))


@router.patch(BASE + "/{transaction_id}", response_model=schemas.TransactionOut)
def transaction_update(
    transaction_id: uuid.UUID, payload: schemas.TransactionPatch, ctx: deps.TenantContext = Depends(deps.tenant_context)
):
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    row = ledger_services.transaction_update(
        tenant=ctx.tenant, actor=ctx.user, transaction_id=transaction_id, changes=payload.model_dump(exclude_unset=True)
    )
    return _out(row)


@router.delete(BASE + "/{transaction_id}", status_code=204, response_class=Response)
def transaction_delete(transaction_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    ledger_services.transaction_delete(tenant=ctx.tenant, actor=ctx.user, transaction_id=transaction_id)
    return Response(status_code=204)
