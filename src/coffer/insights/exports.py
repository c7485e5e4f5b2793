"""Reports as CSV and .xlsx files: each report becomes tables of typed cells, then one writer per format.

Reports are bounded (months x currencies, categories x currencies, budgets), so files are built in
memory. Text cells come from people (category names) and must never run as formulas: the CSV writer
escapes them with the import report's `csv_cell` (a leading quote before = + - @ tab CR), and the
.xlsx writer writes every text cell as a string. Amounts are numbers in both, not text: "-12.50" in
the CSV is a number a spreadsheet reads as such, so numbers are written as they are.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import xlsxwriter

from coffer.imports.report import csv_cell
from coffer.insights import reports

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_XLSX_MAX_CHARS = 32_767


@dataclasses.dataclass
class Table:
    title: str  # the sheet's name (at most 31 characters)
    columns: list[str]
    rows: list[list[Any]]  # str, date, Decimal, int or None


def _number(value: Decimal) -> str:
    """At least two decimals, no trailing zeros past them: 12.50, 0.0125, -3.10."""
    two = value.quantize(Decimal("0.01"))
    return f"{two:f}" if two == value else f"{value:f}".rstrip("0")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return csv_cell(value)


def to_csv(table: Table) -> bytes:
    """One table as CSV, UTF-8 with a BOM (Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(column) for column in table.columns])
    for row in table.rows:
        writer.writerow([_plain(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(tables: list[Table]) -> bytes:
    """Each table as a sheet; text as strings (never formulas), amounts as numbers, dates as dates."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True})
    amount = workbook.add_format({"num_format": "#,##0.00##"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for table in tables:
        sheet = workbook.add_worksheet(table.title[:31])
        for col, title in enumerate(table.columns):
            sheet.write_string(0, col, title, bold)
        sheet.freeze_panes(1, 0)
        for line, row in enumerate(table.rows, start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, Decimal):
                    sheet.write_number(line, col, float(value), amount)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(line, col, dt.datetime(value.year, value.month, value.day), day)
                elif isinstance(value, int) and not isinstance(value, bool):
                    sheet.write_number(line, col, value)
                else:
                    sheet.write_string(line, col, str(value)[:_XLSX_MAX_CHARS])
        sheet.set_column(0, max(len(table.columns) - 1, 0), 16)
    workbook.close()
    return output.getvalue()


# --- reports as tables ----------------------------------------------------------


def _rates_table(conversion: reports.Conversion | None) -> list[Table]:
    if conversion is None:
        return []
    rows = [[rate.currency, conversion.base, rate.on, rate.rate_date, rate.rate, "yes" if rate.inverse else "no"]
            for rate in conversion.rates]
    rows += [[currency, conversion.base, day, None, None, "missing"] for currency, day in conversion.missing]
    return [Table("Rates", ["Currency", "Into", "For day", "Rate date", "Rate", "Inverse"], rows)]


def _converted_label(conversion: reports.Conversion) -> str:
    return f"{conversion.base} (converted)"


def cashflow_tables(report: reports.CashflowReport) -> list[Table]:
    rows = []
    for currency, lines in report.by_currency.items():
        rows += [[currency, line.start, line.end, line.income, line.expenses, line.net] for line in lines]
    if report.converted is not None:
        label = _converted_label(report.conversion)
        rows += [[label, line.start, line.end, line.income, line.expenses, line.net] for line in report.converted]
    table = Table("Cash flow", ["Currency", "From", "To", "Income", "Expenses", "Net"], rows)
    return [table, *_rates_table(report.conversion)]


def category_tables(report: reports.CategoryReport) -> list[Table]:
    rows = []
    sets = list(report.by_currency.items())
    if report.converted is not None:
        sets.append((_converted_label(report.conversion), report.converted))
    for currency, totals in sets:
        for side, lines in (("income", totals.income), ("spending", totals.spending)):
            rows += [[currency, side, line.group_name, line.name, line.amount] for line in lines]
    table = Table("By category", ["Currency", "Side", "Group", "Category", "Amount"], rows)
    return [table, *_rates_table(report.conversion)]


def net_worth_tables(report: reports.NetWorthReport) -> list[Table]:
    rows = []
    for currency, points in report.by_currency.items():
        rows += [[currency, point.day, point.balance] for point in points]
    if report.converted is not None:
        label = _converted_label(report.conversion)
        rows += [[label, point.day, point.balance] for point in report.converted]
    return [Table("Net worth", ["Currency", "Day", "Balance"], rows), *_rates_table(report.conversion)]


def budget_tables(report: reports.BudgetReport) -> list[Table]:
    rows = [
        [p.budget.category.name, p.budget.period, p.period_start, p.period_end, p.budget.currency, p.budgeted,
         p.carried_over, p.available, p.spent, p.left, p.percent, p.projected, p.status]
        for p in report.lines
    ]
    columns = ["Category", "Period", "From", "To", "Currency", "Budgeted", "Carried over", "Available", "Actual",
               "Left", "Percent", "Projected", "Status"]
    return [Table("Budget vs actual", columns, rows)]


def fee_tables(lines: list[reports.FeeLine]) -> list[Table]:
    """The fee report (reports.fee_report): fees per account and month, in the account's currency."""
    rows = [[line.account_name, line.currency, line.month, line.total, line.count] for line in lines]
    return [Table("Fees", ["Account", "Currency", "Month", "Fees", "Transactions"], rows)]
