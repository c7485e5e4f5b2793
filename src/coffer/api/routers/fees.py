"""Fees of a tenant: /api/v1/tenants/{tenant}/fees/...

Expected recurring fees per account (everyone reads; admins and owners create, change and delete), the fee
check (each expected fee per period: ok, missing or differs) and the fee report (fees per account and month).
The report also comes as a CSV or .xlsx file (`/fees/report/export?format=csv|xlsx`).
Without dates the check and the report cover the last 12 months up to today in your time zone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from fastapi import Depends, Query, Response

from coffer.api import deps
from coffer.api.routing import CofferRouter
from coffer.api.schemas import fees as schemas
from coffer.insights import exports, reports
from coffer.ledger import fees
from coffer.tenancy import roles

router = CofferRouter(tags=["fees"])

BASE = "/tenants/{tenant}/fees"
_FROM = Query(None, description="First day (included); default the first day of the 12th month up to date_to")
_TO = Query(None, description="Last day (included); default today in your time zone")


def _period(ctx: deps.TenantContext, date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
    date_to = date_to or reports.today_in(ctx.user.time_zone)
    if date_from is None:
        index = date_to.year * 12 + date_to.month - 1 - 11
        date_from = dt.date(index // 12, index % 12 + 1, 1)
    return date_from, date_to


@router.get(BASE + "/expected", response_model=schemas.ExpectedFeeList)
def expected_fee_list(ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Every expected fee (at most 100, never paged)."""
    ctx.require(roles.Action.READ)
    return {"items": [schemas.fee_out(fee) for fee in fees.expected_fee_list(tenant=ctx.tenant)]}


@router.post(BASE + "/expected", status_code=201, response_model=schemas.ExpectedFeeOut)
def expected_fee_create(payload: schemas.ExpectedFeeIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_BUDGETS)
    fee = fees.expected_fee_create(tenant=ctx.tenant, actor=ctx.user, **payload.model_dump())
    return schemas.fee_out(fees.expected_fee_get(tenant=ctx.tenant, fee_id=fee.pk))


@router.get(BASE + "/expected/{fee_id}", response_model=schemas.ExpectedFeeOut)
def expected_fee_detail(fee_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return schemas.fee_out(fees.expected_fee_get(tenant=ctx.tenant, fee_id=fee_id))


@router.patch(BASE + "/expected/{fee_id}", response_model=schemas.ExpectedFeeOut)
def expected_fee_update(fee_id: uuid.UUID, payload: schemas.ExpectedFeePatch,
                        ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_BUDGETS)
    fee = fees.expected_fee_update(tenant=ctx.tenant, actor=ctx.user, fee_id=fee_id,
                                   changes=payload.model_dump(exclude_unset=True))
    return schemas.fee_out(fee)


@router.delete(BASE + "/expected/{fee_id}", status_code=204)
def expected_fee_delete(fee_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.MANAGE_BUDGETS)
    fees.expected_fee_delete(tenant=ctx.tenant, actor=ctx.user, fee_id=fee_id)
    return Response(status_code=204)


@router.get(BASE + "/check", response_model=schemas.FeeCheck)
def fee_check(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
              date_to: dt.date | None = _TO, fee_id: uuid.UUID | None = Query(None, description="Only this fee")):
    ctx.require(roles.Action.READ)
    date_from, date_to = _period(ctx, date_from, date_to)
    items = fees.fee_check(tenant=ctx.tenant, date_from=date_from, date_to=date_to, fee_id=fee_id)
    return {"date_from": date_from, "date_to": date_to, "items": [
        {"fee": schemas.fee_out(item.fee), "period_start": item.period_start, "period_end": item.period_end,
         "expected": item.expected, "charged": item.charged, "count": item.count, "status": item.status}
        for item in items
    ]}


@router.get(BASE + "/report", response_model=schemas.FeeReport)
def fee_report(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
               date_to: dt.date | None = _TO):
    """Fees per account and month, in each account's currency."""
    ctx.require(roles.Action.READ)
    date_from, date_to = _period(ctx, date_from, date_to)
    lines = reports.fee_report(tenant=ctx.tenant, date_from=date_from, date_to=date_to)
    return {"date_from": date_from, "date_to": date_to, "items": [
        {"account_id": line.account_id, "account_name": line.account_name, "currency": line.currency,
         "month": line.month, "total": line.total, "count": line.count} for line in lines
    ]}


@router.get(BASE + "/report/export", response_class=Response, responses={200: {
    "content": {exports.CSV_MEDIA_TYPE: {}, exports.XLSX_MEDIA_TYPE: {}}, "description": "The fee report as a file"}})
def fee_report_export(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
                      date_to: dt.date | None = _TO,
                      format: Literal["csv", "xlsx"] = Query("csv", description="csv or xlsx")):
    ctx.require(roles.Action.READ)
    date_from, date_to = _period(ctx, date_from, date_to)
    tables = exports.fee_tables(reports.fee_report(tenant=ctx.tenant, date_from=date_from, date_to=date_to))
    if format == "xlsx":
        body, media_type = exports.to_xlsx(tables), exports.XLSX_MEDIA_TYPE
    else:
        body, media_type = exports.to_csv(tables[0]), exports.CSV_MEDIA_TYPE
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="fees-{date_from}-{date_to}.{format}"'})
