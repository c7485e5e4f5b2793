"""The transactions list as a file: the current filter and sort, as CSV or .xlsx.

Rows come from ledger.selectors.transaction_page in keyset chunks (a chunk is one query for the rows
and one for their tags), never as one unbounded query held in memory. The CSV is streamed chunk by
chunk as it is read; the .xlsx is written row by row in xlsxwriter's constant_memory mode to a
temporary file, which is then streamed and removed. Both carry text typed by people and banks: the
CSV escapes every text cell a spreadsheet would read as a formula (imports.report.csv_cell), and the
.xlsx writes text as strings, never formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from asgiref.sync import sync_to_async

from coffer.imports.report import csv_cell
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger.models import Transaction
from coffer.tenancy.models import Tenant
from coffer.web import formatting

CHUNK = ledger_selectors.MAX_PAGE_SIZE
COLUMNS = ("Date", "Value date", "Account", "Currency", "Amount", "Description", "Counterparty", "Reference",
           "Category", "Tags", "Note", "Id")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MAX_ROWS = 1_048_576  # a sheet's rows, the header included
_XLSX_MAX_CHARS = 32_767
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(*, tenant: Tenant, today: dt.date, suffix: str) -> str:
    """`acme-transactions-2024-05-31.csv`: nothing a Content-Disposition header would need to quote."""
    slug = _UNSAFE.sub("_", tenant.slug).strip("._-") or "coffer"
    return f"{slug}-transactions-{today.isoformat()}.{suffix}"


# --- reading ---------------------------------------------------------------------


def chunk(*, tenant: Tenant, filters: dict[str, Any], after: list[str] | None) -> tuple[list[Transaction], list[str] | None]:
    """One chunk of the filtered list after the key `after`, and the next key (None: the last chunk)."""
    return ledger_selectors.transaction_page(tenant=tenant, limit=CHUNK, after=after, **filters)


def chunks(*, tenant: Tenant, filters: dict[str, Any]) -> Iterator[list[Transaction]]:
    after = None
    while True:
        rows, after = chunk(tenant=tenant, filters=filters, after=after)
        if rows:
            yield rows
        if after is None:
            return


def _values(row: Transaction, labels) -> list[Any]:
    """One transaction's cells, typed: dates, a Decimal amount, text."""
    return [
        row.booked_on, row.value_on, row.account.name, row.account.currency, row.amount, row.description,
        row.counterparty, row.reference, labels.label(row.category_id) if row.category_id else "",
        ", ".join(tag.name for tag in row.tags.all()), row.note, str(row.pk),
    ]


# --- CSV -------------------------------------------------------------------------


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return formatting.plain(value)  # a number, "-12.50": never escaped
    return csv_cell(value)


def csv_header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(COLUMNS)
    return ("\ufeff" + buffer.getvalue()).encode()  # the BOM makes Excel read UTF-8


def csv_lines(rows: Iterable[Transaction], labels) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_text(value) for value in _values(row, labels)])
    return buffer.getvalue().encode()


async def csv_stream(*, tenant: Tenant, filters: dict[str, Any], labels) -> AsyncIterator[bytes]:
    """The CSV, one chunk of rows at a time; each chunk is read in the thread that owns the connection."""
    yield csv_header()
    after = None
    while True:
        rows, after = await sync_to_async(chunk)(tenant=tenant, filters=filters, after=after)
        if rows:
            yield csv_lines(rows, labels)
        if after is None:
            return


# --- xlsx ------------------------------------------------------------------------


def write_xlsx(pages: Iterable[list[Transaction]], path: Path | str, *, labels) -> int:
    """Sheet "Transactions": dates as dates, amounts as numbers, text as strings. Returns the rows written;
    past a sheet's last row, the last line says that the rest is in the CSV export."""
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False},
    )
    written = 0
    try:
        bold = workbook.add_format({"bold": True})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        amount = workbook.add_format({"num_format": "#,##0.00##"})
        sheet = workbook.add_worksheet("Transactions")
        for col, title in enumerate(COLUMNS):
            sheet.write_string(0, col, title, bold)
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, 1, 11)
        sheet.set_column(2, 2, 18)
        sheet.set_column(4, 4, 12)
        sheet.set_column(5, 5, 36)
        sheet.set_column(6, 10, 18)
        sheet.set_column(11, 11, 38)
        for rows in pages:
            for row in rows:
                line = written + 1
                if line == XLSX_MAX_ROWS - 1:
                    sheet.write_string(line, 0, "More transactions match than a sheet holds; export them as CSV.")
                    return written
                for col, value in enumerate(_values(row, labels)):
                    if value is None or value == "":
                        continue
                    if isinstance(value, dt.date):
                        sheet.write_datetime(line, col, dt.datetime(value.year, value.month, value.day), day)
                    elif isinstance(value, Decimal):
                        sheet.write_number(line, col, float(value), amount)
                    else:
                        sheet.write_string(line, col, str(value)[:_XLSX_MAX_CHARS])
                written += 1
    finally:
        workbook.close()
    return written


def xlsx_file(*, tenant: Tenant, filters: dict[str, Any], labels):
    """The workbook in an open, already unlinked temporary file (nothing is left behind), at its start."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="coffer-export-")
    os.close(handle)
    try:
        write_xlsx(chunks(tenant=tenant, filters=filters), path, labels=labels)
        opened = open(path, "rb")  # noqa: SIM115 - closed by file_stream
    finally:
        os.unlink(path)
    return opened


async def file_stream(handle, block: int = 256 * 1024) -> AsyncIterator[bytes]:
    with handle:
        while data := await sync_to_async(handle.read)(block):
            yield data
