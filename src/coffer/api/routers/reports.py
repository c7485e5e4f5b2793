"""Reports of a tenant: /api/v1/tenants/{tenant}/reports/...

Cash flow per month, spending and income by category, net worth over time and budget vs actual,
as JSON and as CSV or .xlsx files (`.../export?format=csv|xlsx`). Everything is per currency;
`convert=true` adds figures in the tenant's base currency from its exchange rates and lists the
rates used. A period is [date_from, date_to], both days included, at most 120 months; without
dates a report covers the last 12 months (by category: this month) up to today in your time zone.
Viewers and up read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from fastapi import Depends, Query, Response

from coffer.api import deps
from coffer.api.routing import CofferRouter
from coffer.api.schemas import budgets as budget_schemas
from coffer.api.schemas import reports as schemas
from coffer.api.schemas.exchange_rates import conversion_out
from coffer.insights import exports, reports
from coffer.tenancy import roles

router = CofferRouter(tags=["reports"])

BASE = "/tenants/{tenant}/reports"
ExportFormat = Literal["csv", "xlsx"]
_FROM = Query(None, description="First day of the period (included)")
_TO = Query(None, description="Last day of the period (included); default today in your time zone")
_CONVERT = Query(False, description="Also convert into the tenant's base currency with its exchange rates")
_FORMAT = Query("csv", description="csv (one table) or xlsx (with a Rates sheet when converting)")
_EXPORT_RESPONSES = {200: {"content": {exports.CSV_MEDIA_TYPE: {}, exports.XLSX_MEDIA_TYPE: {}},
                           "description": "The report as a file"}}
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def _period(ctx: deps.TenantContext, date_from: dt.date | None, date_to: dt.date | None, *,
            default: str) -> tuple[dt.date, dt.date]:
    date_to = date_to or reports.today_in(ctx.user.time_zone)
    if date_from is None:
        if default == "month":
            date_from = date_to.replace(day=1)
        else:  # the 12 calendar months ending with date_to's
            index = date_to.year * 12 + date_to.month - 12
            date_from = dt.date(index // 12, index % 12 + 1, 1)
    return date_from, date_to


def _file(tables: list[exports.Table], *, name: str, fmt: str) -> Response:
    name = _UNSAFE.sub("-", name.lower())
    if fmt == "xlsx":
        body, media_type = exports.to_xlsx(tables), exports.XLSX_MEDIA_TYPE
    else:
        body, media_type = exports.to_csv(tables[0]), exports.CSV_MEDIA_TYPE
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


# --- cash flow ----------------------------------------------------------------


def _flow(line) -> dict:
    return {"start": line.start, "end": line.end, "income": line.income, "expenses": line.expenses, "net": line.net}


def _cashflow(ctx, date_from, date_to, convert):
    date_from, date_to = _period(ctx, date_from, date_to, default="year")
    return reports.cashflow(tenant=ctx.tenant, date_from=date_from, date_to=date_to, convert=convert)


@router.get(BASE + "/cashflow", response_model=schemas.CashflowOut)
def cashflow(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
             date_to: dt.date | None = _TO, convert: bool = _CONVERT):
    """Income and expenses per calendar month and currency; transfers left out, refunds lower expenses."""
    ctx.require(roles.Action.READ)
    report = _cashflow(ctx, date_from, date_to, convert)
    converted = None
    if report.converted is not None:
        converted = {"currency": report.conversion.base, "months": [_flow(line) for line in report.converted],
                     "total": _flow(reports.FlowLine(
                         report.date_from, report.date_to, sum((m.income for m in report.converted), reports.ZERO),
                         sum((m.expenses for m in report.converted), reports.ZERO)))}
    return schemas.CashflowOut(
        date_from=report.date_from, date_to=report.date_to, converted=converted,
        currencies=[{"currency": currency, "months": [_flow(line) for line in lines],
                     "total": _flow(report.total(currency))} for currency, lines in report.by_currency.items()],
        conversion=conversion_out(report.conversion),
    ).model_dump(mode="json")


@router.get(BASE + "/cashflow/export", response_class=Response, responses=_EXPORT_RESPONSES)
def cashflow_export(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
                    date_to: dt.date | None = _TO, convert: bool = _CONVERT, format: ExportFormat = _FORMAT):
    ctx.require(roles.Action.READ)
    report = _cashflow(ctx, date_from, date_to, convert)
    return _file(exports.cashflow_tables(report), name=f"cashflow-{report.date_from}-{report.date_to}", fmt=format)


# --- by category ----------------------------------------------------------------


def _totals(currency: str, totals) -> dict:
    return {"currency": currency, "income": totals.income, "spending": totals.spending,
            "income_groups": totals.groups("income"), "spending_groups": totals.groups("spending"),
            "total_income": totals.total_income, "total_spending": totals.total_spending}


def _categories(ctx, date_from, date_to, convert):
    date_from, date_to = _period(ctx, date_from, date_to, default="month")
    return reports.by_category(tenant=ctx.tenant, date_from=date_from, date_to=date_to, convert=convert)


@router.get(BASE + "/categories", response_model=schemas.CategoryReportOut)
def categories(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
               date_to: dt.date | None = _TO, convert: bool = _CONVERT):
    """Spending and income per category and currency, largest first, also added up per top-level category
    (`*_groups`). Uncategorized money shows as "Uncategorized" on each side."""
    ctx.require(roles.Action.READ)
    report = _categories(ctx, date_from, date_to, convert)
    return schemas.CategoryReportOut.model_validate({
        "date_from": report.date_from, "date_to": report.date_to,
        "currencies": [_totals(currency, totals) for currency, totals in report.by_currency.items()],
        "converted": _totals(report.conversion.base, report.converted) if report.converted is not None else None,
        "conversion": conversion_out(report.conversion),
    }, from_attributes=True).model_dump(mode="json")


@router.get(BASE + "/categories/export", response_class=Response, responses=_EXPORT_RESPONSES)
def categories_export(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
                      date_to: dt.date | None = _TO, convert: bool = _CONVERT, format: ExportFormat = _FORMAT):
    ctx.require(roles.Action.READ)
    report = _categories(ctx, date_from, date_to, convert)
    return _file(exports.category_tables(report), name=f"categories-{report.date_from}-{report.date_to}", fmt=format)


# --- net worth ------------------------------------------------------------------


def _net_worth(ctx, date_from, date_to, convert):
    date_from, date_to = _period(ctx, date_from, date_to, default="year")
    return reports.net_worth(tenant=ctx.tenant, date_from=date_from, date_to=date_to, convert=convert)


@router.get(BASE + "/net-worth", response_model=schemas.NetWorthOut)
def net_worth(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
              date_to: dt.date | None = _TO, convert: bool = _CONVERT):
    """What the accounts of each currency held at the end of each month (the last point: date_to)."""
    ctx.require(roles.Action.READ)
    report = _net_worth(ctx, date_from, date_to, convert)
    converted = None
    if report.converted is not None:
        converted = {"currency": report.conversion.base, "points": report.converted}
    return schemas.NetWorthOut.model_validate({
        "date_from": report.date_from, "date_to": report.date_to, "converted": converted,
        "currencies": [{"currency": currency, "points": points} for currency, points in report.by_currency.items()],
        "conversion": conversion_out(report.conversion),
    }, from_attributes=True).model_dump(mode="json")


@router.get(BASE + "/net-worth/export", response_class=Response, responses=_EXPORT_RESPONSES)
def net_worth_export(ctx: deps.TenantContext = Depends(deps.tenant_context), date_from: dt.date | None = _FROM,
                     date_to: dt.date | None = _TO, convert: bool = _CONVERT, format: ExportFormat = _FORMAT):
    ctx.require(roles.Action.READ)
    report = _net_worth(ctx, date_from, date_to, convert)
    return _file(exports.net_worth_tables(report), name=f"net-worth-{report.date_from}-{report.date_to}", fmt=format)


# --- budget vs actual -------------------------------------------------------------

_ON = Query(None, description="The day whose periods are compared; default today in your time zone")


@router.get(BASE + "/budgets", response_model=schemas.BudgetReportOut)
def budget_vs_actual(ctx: deps.TenantContext = Depends(deps.tenant_context), on: dt.date | None = _ON):
    """Each budget against what was spent in its period containing `on`."""
    ctx.require(roles.Action.READ)
    report = reports.budget_vs_actual(tenant=ctx.tenant, on=on or reports.today_in(ctx.user.time_zone))
    return {"on": report.on, "items": [budget_schemas.budget_out(line) for line in report.lines]}


@router.get(BASE + "/budgets/export", response_class=Response, responses=_EXPORT_RESPONSES)
def budget_vs_actual_export(ctx: deps.TenantContext = Depends(deps.tenant_context), on: dt.date | None = _ON,
                            format: ExportFormat = _FORMAT):
    ctx.require(roles.Action.READ)
    report = reports.budget_vs_actual(tenant=ctx.tenant, on=on or reports.today_in(ctx.user.time_zone))
    return _file(exports.budget_tables(report), name=f"budgets-{report.on}", fmt=format)
