"""Exchange rates of a tenant: /api/v1/tenants/{tenant}/exchange-rates.

Optional: reports convert into the tenant's base currency with them (the latest rate on or
before a day, either direction). Everyone reads; admins and owners write.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import exchange_rates as schemas
from coffer.api.schemas.common import Page
from coffer.ledger import exchange_rates
from coffer.tenancy import roles

router = CofferRouter(tags=["exchange rates"])

BASE = "/tenants/{tenant}/exchange-rates"


def _out(row) -> dict:
    return schemas.ExchangeRateOut.model_validate(row).model_dump(mode="json")


@router.get(BASE, response_model=Page[schemas.ExchangeRateOut])
def rate_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    currency: str | None = Query(None, max_length=3, description="Only rates from or to this currency"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Rates, newest first."""
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = exchange_rates.rate_page(tenant=ctx.tenant, limit=limit, after=after, currency=currency)
    return {"items": [_out(row) for row in rows], "next": pagination.encode_cursor(next_key) if next_key else None}


@router.post(BASE, status_code=201, response_model=schemas.ExchangeRateOut)
def rate_create(payload: schemas.ExchangeRateIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """One rate per pair of currencies and day (409 for a second one)."""
    ctx.require(roles.Action.MANAGE_BUDGETS)
    return _out(exchange_rates.rate_create(tenant=ctx.tenant, actor=ctx.user, **payload.model_dump()))


@router.get(BASE + "/{rate_id}", response_model=schemas.ExchangeRateOut)
def rate_detail(rate_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _out(exchange_rates.rate_get(tenant=ctx.tenant, rate_id=rate_id))


@router.patch(BASE + "/{rate_id}", response_model=schemas.ExchangeRateOut)
def rate_update(rate_id: uuid.UUID, payload: schemas.ExchangeRatePatch,
                ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_BUDGETS)
    row = exchange_rates.rate_update(
        tenant=ctx.tenant, actor=ctx.user, rate_id=rate_id, changes=payload.model_dump(exclude_unset=True)
    )
    return _out(row)


@router.delete(BASE + "/{rate_id}", status_code=204, response_class=Response)
def rate_delete(rate_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_BUDGETS)
    exchange_rates.rate_delete(tenant=ctx.tenant, actor=ctx.user, rate_id=rate_id)
    return Response(status_code=204)
