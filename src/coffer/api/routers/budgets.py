"""Budgets of a tenant: /api/v1/tenants/{tenant}/budgets.

Every budget comes with its progress in the period containing `on` (default: today in your time
zone). Everyone reads; admins and owners create, change and delete.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps
from coffer.api.routing import CofferRouter
from coffer.api.schemas import budgets as schemas
from coffer.insights import reports
from coffer.ledger import budgets
from coffer.tenancy import roles

router = CofferRouter(tags=["budgets"])

BASE = "/tenants/{tenant}/budgets"
_ON = Query(None, description="The day whose period the progress is for; default today in your time zone")


def _today(ctx: deps.TenantContext) -> dt.date:
    return reports.today_in(ctx.user.time_zone)


def _one(ctx: deps.TenantContext, budget, on: dt.date) -> dict:
    return schemas.budget_out(budgets.budget_progress(tenant=ctx.tenant, budgets=[budget], on=on)[0])


@router.get(BASE, response_model=schemas.BudgetList)
def budget_list(ctx: deps.TenantContext = Depends(deps.tenant_context), on: dt.date | None = _ON):
    """Every budget (at most 100, never paged) with its progress."""
    ctx.require(roles.Action.READ)
    on = on or _today(ctx)
    progress = budgets.budget_progress(tenant=ctx.tenant, budgets=budgets.budget_list(tenant=ctx.tenant), on=on)
    return {"on": on, "items": [schemas.budget_out(p) for p in progress]}


@router.get(BASE + "/alerts", response_model=schemas.BudgetAlerts)
def budget_alerts(ctx: deps.TenantContext = Depends(deps.tenant_context), on: dt.date | None = _ON):
    """Budgets over budget (first) or at 80% and more of what is available in their current period."""
    ctx.require(roles.Action.READ)
    on = on or _today(ctx)
    alerts = budgets.budget_alerts(ctx.tenant, on)
    return {"on": on, "items": [
        {"level": alert.level, "message": alert.message, "budget": schemas.budget_out(alert.progress)}
        for alert in alerts
    ]}


@router.post(BASE, status_code=201, response_model=schemas.BudgetOut)
def budget_create(payload: schemas.BudgetIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """One budget per expense category (409 for a second); 422 for an income or transfer category."""
    ctx.require(roles.Action.MANAGE_BUDGETS)
    today = _today(ctx)
    budget = budgets.budget_create(tenant=ctx.tenant, actor=ctx.user, today=today, **payload.model_dump())
    return _one(ctx, budgets.budget_get(tenant=ctx.tenant, budget_id=budget.pk), today)


@router.get(BASE + "/{budget_id}", response_model=schemas.BudgetOut)
def budget_detail(budget_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context),
                  on: dt.date | None = _ON):
    ctx.require(roles.Action.READ)
    return _one(ctx, budgets.budget_get(tenant=ctx.tenant, budget_id=budget_id), on or _today(ctx))


@router.patch(BASE + "/{budget_id}", response_model=schemas.BudgetOut)
def budget_update(budget_id: uuid.UUID, payload: schemas.BudgetPatch,
                  ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_BUDGETS)
    budget = budgets.budget_update(
        tenant=ctx.tenant, actor=ctx.user, budget_id=budget_id, changes=payload.model_dump(exclude_unset=True)
    )
    return _one(ctx, budget, _today(ctx))


@router.delete(BASE + "/{budget_id}", status_code=204, response_class=Response)
def budget_delete(budget_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_BUDGETS)
    budgets.budget_delete(tenant=ctx.tenant, actor=ctx.user, budget_id=budget_id)
    return Response(status_code=204)
