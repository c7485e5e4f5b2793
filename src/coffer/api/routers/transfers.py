"""Transfers of a tenant: /api/v1/tenants/{tenant}/transfers.

A transfer is two transactions of the tenant's own accounts, out of one and into the other, and
counts in no income or expense total (ledger.transfers has the rules). Everyone reads; members,
who write transactions, detect, link and unlink. A transfer is addressed by either side's id.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import transfers as schemas
from coffer.api.schemas.common import Page
from coffer.ledger import transfers
from coffer.tenancy import roles

router = CofferRouter(tags=["transfers"])

BASE = "/tenants/{tenant}/transfers"


def _out(outflow, inflow) -> dict:
    return schemas.TransferOut(
        outflow=schemas.TransferSide.model_validate(outflow), inflow=schemas.TransferSide.model_validate(inflow)
    ).model_dump(mode="json")


@router.get(BASE, response_model=Page[schemas.TransferOut])
def transfer_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Linked transfers, newest first."""
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = transfers.transfer_page(tenant=ctx.tenant, limit=limit, after=after)
    return {"items": [_out(t.outflow, t.inflow) for t in rows],
            "next": pagination.encode_cursor(next_key) if next_key else None}


@router.post(BASE, status_code=201, response_model=schemas.TransferOut)
def transfer_link(payload: schemas.TransferIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Link two transactions as one transfer by hand: different accounts, opposite signs, and within one
    currency opposite amounts (422 otherwise). 409 when either is already part of another transfer; linking
    the same two again returns them. Across currencies the amounts may differ."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    outflow, inflow = transfers.link(
        tenant=ctx.tenant, actor=ctx.user, transaction_id=payload.transaction_id, pair_id=payload.pair_id
    )
    return _out(outflow, inflow)


@router.post(BASE + "/detect", response_model=schemas.DetectOut)
def transfer_detect(payload: schemas.DetectIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Find and link transfers: same currency, opposite amounts, different accounts, booked within 4 days,
    unambiguous, never a pair someone unlinked. Imports run this after their commit."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    return {"linked": transfers.detect(ctx.tenant, payload.since, actor=ctx.user)}


@router.get(BASE + "/{transaction_id}", response_model=schemas.TransferOut)
def transfer_detail(transaction_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """The transfer this transaction is a side of (404 when it is not part of one)."""
    ctx.require(roles.Action.READ)
    found = transfers.transfer_get(tenant=ctx.tenant, transaction_id=transaction_id)
    return _out(found.outflow, found.inflow)


@router.delete(BASE + "/{transaction_id}", status_code=204, response_class=Response)
def transfer_unlink(transaction_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Unlink the transfer this transaction is a side of; both count as income or expense again, and
    detection leaves the pair alone from then on."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    transfers.unlink(tenant=ctx.tenant, actor=ctx.user, transaction_id=transaction_id)
    return Response(status_code=204)
