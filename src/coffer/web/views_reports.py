"""Reports (cash flow per month, spending and income by category, net worth over time, budget vs actual) for
a chosen period, per currency, with CSV and .xlsx downloads; and the transfers page (linked pairs, "find
transfers", unlink). Everyone reads; members and up detect and unlink transfers. The figures come from
insights.reports, the files from insights.exports, the transfers from ledger.transfers."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from coffer import errors
from coffer.insights import exports, reports
from coffer.insights.selectors import MonthBalance, MonthFlow
from coffer.ledger import transfers
from coffer.tenancy import roles
from coffer.web import access, charts, form_errors, forms_budgets, paging

EXPORTS = {
    "cashflow": (lambda tenant, period, convert: exports.cashflow_tables(
        reports.cashflow(tenant=tenant, date_from=period.start, date_to=period.end, convert=convert))),
    "categories": (lambda tenant, period, convert: exports.category_tables(
        reports.by_category(tenant=tenant, date_from=period.start, date_to=period.end, convert=convert))),
    "net-worth": (lambda tenant, period, convert: exports.net_worth_tables(
        reports.net_worth(tenant=tenant, date_from=period.start, date_to=period.end, convert=convert))),
    "budgets": (lambda tenant, period, convert: exports.budget_tables(
        reports.budget_vs_actual(tenant=tenant, on=period.end))),
    "fees": (lambda tenant, period, convert: exports.fee_tables(
        reports.fee_report(tenant=tenant, date_from=period.start, date_to=period.end))),
}
FORMATS = ("csv", "xlsx")


def _cashflow_chart(lines: list[reports.FlowLine]) -> dict:
    return charts.cashflow_bars([MonthFlow(month=line.start.replace(day=1), income=line.income,
                                           expenses=line.expenses) for line in lines])


def _net_worth_chart(points: list[reports.NetWorthPoint]) -> dict:
    return charts.balance_line([MonthBalance(month=point.day, balance=point.balance) for point in points])


def _net_worth_rows(report: reports.NetWorthReport) -> list[tuple]:
    """One row per month end: the day, each currency's balance (in by_currency's order), the converted total."""
    series = list(report.by_currency.values())
    if not series:
        return []
    return [(point.day, [points[i].balance for points in series],
             report.converted[i].balance if report.converted is not None else None)
            for i, point in enumerate(series[0])]


@require_GET
@access.tenant_view()
def report_page(request, tenant):
    form = forms_budgets.ReportPeriodForm(request.GET)
    period = form.period_for(timezone.localdate())
    context = {"form": form, "period": period, "nav": "reports", "query": request.GET.urlencode()}
    if period is not None:
        convert = form.cleaned_data["convert"]
        try:
            cashflow = reports.cashflow(tenant=tenant, date_from=period.start, date_to=period.end, convert=convert)
            categories = reports.by_category(tenant=tenant, date_from=period.start, date_to=period.end,
                                             convert=convert)
            net_worth = reports.net_worth(tenant=tenant, date_from=period.start, date_to=period.end, convert=convert)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
            period = context["period"] = None
        else:
            context.update({
                "convert": convert, "base": tenant.base_currency,
                "cashflow": [(currency, lines, cashflow.total(currency), _cashflow_chart(lines))
                             for currency, lines in cashflow.by_currency.items()],
                "cashflow_report": cashflow,
                "categories": categories,
                "net_worth": [(currency, points, _net_worth_chart(points))
                              for currency, points in net_worth.by_currency.items()],
                "net_worth_report": net_worth,
                "net_worth_rows": _net_worth_rows(net_worth),
                "budgets": reports.budget_vs_actual(tenant=tenant, on=period.end),
                "conversions": [c for c in (cashflow.conversion, categories.conversion, net_worth.conversion) if c],
            })
    return access.page(request, "web/reports/page.html", context, status=200 if period else 422)


@require_GET
@access.tenant_view()
def report_export(request, tenant, report: str, fmt: str):
    if report not in EXPORTS or fmt not in FORMATS:
        raise Http404("No such report")
    form = forms_budgets.ReportPeriodForm(request.GET)
    period = form.period_for(timezone.localdate())
    if period is None:
        return HttpResponseBadRequest("Choose a valid period: " + "; ".join(
            f"{name}: {' '.join(messages_)}" for name, messages_ in form.errors.items()), content_type="text/plain")
    try:
        tables = EXPORTS[report](tenant, period, form.cleaned_data["convert"])
    except errors.ValidationError as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain")
    if fmt == "xlsx":
        body, media_type = exports.to_xlsx(tables), exports.XLSX_MEDIA_TYPE
    else:
        body, media_type = exports.to_csv(tables[0]), exports.CSV_MEDIA_TYPE
    stamp = period.end.isoformat() if report == "budgets" else f"{period.start}-{period.end}"
    response = HttpResponse(body, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{report}-{stamp}.{fmt}"'
    return response


# --- transfers ------------------------------------------------------------------------------------


@require_GET
@access.tenant_view()
def transfer_list(request, tenant):
    try:
        after = paging.after(request, size=2)
        rows, next_key = transfers.transfer_page(tenant=tenant, limit=paging.PAGE_SIZE, after=after)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    return access.page(request, "web/reports/transfers.html", {
        "transfers": rows, "nav": "reports", "first_page": after is None,
        "more_url": paging.more_url(request.path, request.GET, next_key),
        "can_write": request.coffer.can_write_transactions,
    })


@require_POST
@access.tenant_view(roles.Action.WRITE_TRANSACTIONS)
def transfer_detect(request, tenant):
    linked = transfers.detect(tenant, actor=request.user)
    if linked:
        messages.success(request, f"Found and linked {linked} transfer{'s' if linked != 1 else ''}.")
    else:
        messages.info(request, "No new transfers found.")
    return redirect("web:transfer_list", tenant_slug=tenant.slug)


@require_POST
@access.tenant_view(roles.Action.WRITE_TRANSACTIONS)
def transfer_unlink(request, tenant, transaction_id):
    outflow, inflow = transfers.unlink(tenant=tenant, actor=request.user, transaction_id=transaction_id)
    messages.success(request, f"Unlinked: {outflow.description or 'the outflow'} and "
                              f"{inflow.description or 'the inflow'} count as expense and income again.")
    return redirect("web:transfer_list", tenant_slug=tenant.slug)
