"""Reading every format: typed cells, row numbers as the spreadsheet shows them, sheets listed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer.imports import analysis, readers
from tests.imports import builders

HEADER = ["Date", "Description", "Amount", "Balance"]


def rows_of(path, sheet=None):
    workbook = readers.open_workbook(path)
    try:
        return [(row.number, row.cells) for row in workbook.iter_rows(sheet)]
    finally:
        workbook.close()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_encoding_and_delimiter_are_detected(tmp_path, encoding, delimiter):
    path = builders.write_csv(
        tmp_path / "statement.txt",
        [["Kontoauszug Müller"], [], ["Datum", "Verwendungszweck", "Betrag", "Saldo"],
         ["01.03.2024", "Café Zürich; Straße", "-3,50", "996,50"],
         ["02.03.2024", "Gehalt März", "2.500,00", "3.496,50"]],
        delimiter=delimiter, encoding=encoding,
    )
    workbook = readers.open_workbook(path)
    assert workbook.format == "csv"
    assert workbook.delimiter == delimiter
    assert rows_of(path)[3] == (4, ["01.03.2024", "Café Zürich; Straße", "-3,50", "996,50"])
    result = analysis.analyze(path, today=dt.date(2025, 1, 1), keep_rows=True)
    assert result.header_row == 3
    assert [r.amount for r in result.rows] == [Decimal("-3.50"), Decimal("2500.00")]


def test_cp1252_file_is_not_mistaken_for_another_code_page(tmp_path):
    path = tmp_path / "de.csv"
    path.write_bytes("Datum;Empfänger;Betrag\n01.03.2024;Bäckerei Größe €;-3,50\n".encode("cp1252"))
    assert readers.open_workbook(path).encoding == "cp1252"
    assert rows_of(path)[1][1][1] == "Bäckerei Größe €"


def test_csv_quoted_newlines_keep_the_line_where_each_record_starts(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text('Date,Description,Amount\r\n2024-03-01,"Two\r\nline text",-1.00\r\n\r\n2024-03-02,"a ""quoted"" word",2.00\r\n')
    assert rows_of(path) == [
        (1, ["Date", "Description", "Amount"]),
        (2, ["2024-03-01", "Two\r\nline text", "-1.00"]),
        (4, []),
        (5, ["2024-03-02", 'a "quoted" word', "2.00"]),
    ]
    result = analysis.analyze(path, keep_rows=True, today=dt.date(2025, 1, 1))
    assert [r.number for r in result.rows] == [2, 5]
    assert result.rows[0].description == "Two line text"


def test_a_csv_named_xlsx_is_read_as_csv(tmp_path):
    path = builders.write_csv(tmp_path / "export.xlsx", [HEADER, ["2024-03-01", "Coffee", "-3.50", "96.50"]])
    result = analysis.analyze(path, today=dt.date(2025, 1, 1))
    assert (result.format, result.rows_total) == ("csv", 1)


def test_an_xlsx_named_csv_is_read_as_xlsx(tmp_path):
    path = builders.write_xlsx(tmp_path / "export.csv", {"Data": [HEADER, [dt.date(2024, 3, 1), "Coffee", -3.5, 96.5]]})
    assert analysis.analyze(path, today=dt.date(2025, 1, 1)).format == "xlsx"


@pytest.mark.parametrize("writer,fmt", [(builders.write_xlsx, "xlsx"), (builders.write_xls, "xls"),
                                        (builders.write_ods, "ods")])
def test_every_spreadsheet_format_gives_typed_cells_and_spreadsheet_row_numbers(tmp_path, writer, fmt):
    rows = [["Bank statement"], [None], HEADER] + builders.statement_rows(25)
    path = writer(tmp_path / f"book.{fmt}", {"Notes": [["read me"]], "Umsätze": rows})
    workbook = readers.open_workbook(path)
    assert workbook.format == fmt
    assert [(s.name, s.rows, s.columns) for s in workbook.sheets] == [("Notes", 1, 1), ("Umsätze", 28, 4)]
    assert readers.choose_sheet(workbook) == "Umsätze"
    number, cells = rows_of(path, "Umsätze")[3]
    assert number == 4
    assert cells[0] == dt.date(2024, 3, 1) or cells[0] == dt.datetime(2024, 3, 1)
    assert cells[1] == "Shop 0 #1000" and cells[2] == pytest.approx(-12.34)
    result = analysis.analyze(path, today=dt.date(2025, 1, 1), keep_rows=True)
    assert (result.sheet, result.header_row, result.rows_total, result.issues) == ("Umsätze", 3, 25, [])
    assert result.rows[0].amount == Decimal("-12.34") and result.rows[0].balance == Decimal("987.66")


def test_table_starting_below_and_right_keeps_its_letters_and_row_numbers(tmp_path):
    rows = [[None, None, None]] * 3 + [[None, None, *HEADER], [None, None, dt.date(2024, 3, 1), "Tea", -2.0, 98.0]]
    path = builders.write_xlsx(tmp_path / "offset.xlsx", {"S": rows})
    assert rows_of(path)[4] == (5, [None, None, dt.date(2024, 3, 1), "Tea", -2.0, 98.0])
    result = analysis.analyze(path, today=dt.date(2025, 1, 1))
    assert result.header_row == 4
    assert result.mapping == {"date": "C", "description": "D", "amount": "E", "balance": "F"}


def test_formula_balances_are_read_as_their_cached_values(tmp_path):
    rows = [HEADER, [dt.date(2024, 3, 1), "Opening", 100.0, 100.0], [dt.date(2024, 3, 2), "Tea", -2.5, None],
            [dt.date(2024, 3, 3), "Cake", -4.0, None]]
    path = builders.write_xlsx_with_cached_formulas(
        tmp_path / "formulas.xlsx", "Ledger", rows, formulas={(2, 3): ("=D2+C3", 97.5), (3, 3): ("=D3+C4", 93.5)})
    result = analysis.analyze(path, today=dt.date(2025, 1, 1), keep_rows=True)
    assert [r.balance for r in result.rows] == [Decimal("100.0000"), Decimal("97.5000"), Decimal("93.5000")]
    assert result.issues == []


def test_error_literals_become_error_cells_with_a_clear_issue(tmp_path):
    path = builders.write_csv(tmp_path / "errors.csv", [HEADER, ["2024-03-01", "Tea", "#REF!", "1.00"],
                                                        ["#VALUE!", "Cake", "-1.00", "0.00"]])
    cells = rows_of(path)[1][1]
    assert cells[2] == readers.ErrorCell("#REF!")
    result = analysis.analyze(path, today=dt.date(2025, 1, 1))
    assert [(i.row, i.column, i.code) for i in result.issues if i.severity == "error"] == [
        (2, "C", "E_AMOUNT_INVALID"), (3, "A", "E_DATE_INVALID")]
    assert "#REF!" in result.issues[0].message


def test_user_can_override_the_sheet_and_mapping(tmp_path):
    path = builders.write_xlsx(tmp_path / "two.xlsx", {
        "A": [HEADER, [dt.date(2024, 3, 1), "Tea", -2.0, 98.0]],
        "B": [["When", "What", "How much"], ["2024-03-05", "Coffee", "-3.00"], ["2024-03-06", "Cake", "-4.00"]],
    })
    result = analysis.analyze(path, sheet="B", mapping={"date": "A", "description": "B", "amount": "C"},
                              header_row=1, today=dt.date(2025, 1, 1))
    assert (result.sheet, result.rows_total, result.mapping["amount"]) == ("B", 2, "C")
    with pytest.raises(readers.UnreadableFile, match="no sheet named 'C'; its sheets are 'A', 'B'"):
        analysis.analyze(path, sheet="C")


def test_macro_enabled_workbook_is_read_as_xlsm_without_running_anything(tmp_path):
    import zipfile

    source = builders.write_xlsx(tmp_path / "plain.xlsx", {"S": [HEADER, [dt.date(2024, 3, 1), "Tea", -2.0, 98.0]]})
    path = tmp_path / "macros.xlsm"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")
            copy.writestr(info.filename, data)
    result = analysis.analyze(path, today=dt.date(2025, 1, 1))
    assert (result.format, result.rows_total) == ("xlsm", 1)


def test_excel_serial_numbers_in_a_date_column_are_dates(tmp_path):
    rows = [HEADER, [45352, "Tea", -2.0, 98.0], [45353.0, "Cake", -3.0, 95.0]]
    path = builders.write_xlsx(tmp_path / "serials.xlsx", {"S": rows})
    result = analysis.analyze(path, today=dt.date(2025, 1, 1), keep_rows=True)
    assert [r.booked_on for r in result.rows] == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]
    assert result.mapping["date"] == "A"


def test_newest_first_statement_checks_its_balances_backwards(tmp_path):
    rows = [["Date", "Description", "Amount", "Balance"],
            ["03/03/2024", "Cake", "-3,00", "95,00"], ["02/03/2024", "Tea", "-2,00", "98,00"],
            ["01/03/2024", "Salary", "100,00", "100,00"], ["29/02/2024", "Opening", "0,00", "0,00"]]
    path = builders.write_csv(tmp_path / "newest.csv", rows, delimiter=";")
    result = analysis.analyze(path, today=dt.date(2025, 1, 1))
    assert result.issues == []
    rows[1][3] = "96,00"
    path = builders.write_csv(tmp_path / "newest_bad.csv", rows, delimiter=";")
    result = analysis.analyze(path, today=dt.date(2025, 1, 1))
    assert [(i.row, i.column, i.code) for i in result.issues] == [(2, "D", "W_BALANCE_MISMATCH")]


def test_hidden_sheets_are_listed_but_not_chosen(tmp_path):
    import openpyxl

    path = builders.write_xlsx(tmp_path / "hidden.xlsx", {
        "Old": [HEADER] + builders.statement_rows(40), "Current": [HEADER] + builders.statement_rows(5)})
    book = openpyxl.load_workbook(path)
    book["Old"].sheet_state = "hidden"
    book.save(path)
    workbook = readers.open_workbook(path)
    assert [(s.name, s.visible) for s in workbook.sheets] == [("Old", False), ("Current", True)]
    assert readers.choose_sheet(workbook) == "Current"


def test_utf16_without_bom_is_read(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("Date\tDescription\tAmount\n2024-03-01\tCafé\t-2.50\n".encode("utf-16-le"))
    workbook = readers.open_workbook(path)
    assert (workbook.encoding, workbook.delimiter) == ("utf-16-le", "\t")
    assert rows_of(path)[1] == (2, ["2024-03-01", "Café", "-2.50"])
