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
    assert [(i.row, i.column, i.code, i.value) for i in result.issues if i.severity == "error"] == [
        (2, "C", "E_CELL_ERROR", "#REF!"), (3, "A", "E_CELL_ERROR", "#VALUE!")]
    assert "The cell holds the spreadsheet error #REF!" in result.issues[0].message


ERROR_ROWS = [HEADER, [dt.date(2024, 3, 1), "Tea", -2.5, 97.5], [dt.date(2024, 3, 2), "Cake", None, 93.5],
              [None, "Rent", -500.0, None], [dt.date(2024, 3, 4), "Bus", None, 90.0]]
# (row index, column index) -> (formula, cached error value), as Excel saves them
ERROR_FORMULAS = {(2, 2): ("=1/0", "#DIV/0!"), (3, 0): ("=Z99+#REF!", "#REF!"), (3, 3): ("=NA()", "#N/A"),
                  (4, 2): ('="a"+1', "#VALUE!")}
EXPECTED_ERRORS = [(3, "C", "E_CELL_ERROR", "#DIV/0!"), (4, "A", "E_CELL_ERROR", "#REF!"),
                   (5, "C", "E_CELL_ERROR", "#VALUE!")]


def test_error_values_of_an_xlsx_are_error_cells_not_blanks(tmp_path):
    """calamine reads a cached #DIV/0! as an empty string; the reader must not."""
    path = builders.write_xlsx_with_cached_formulas(tmp_path / "errors.xlsx", "Ledger", ERROR_ROWS,
                                                    formulas=ERROR_FORMULAS)
    rows = rows_of(path, "Ledger")
    assert rows[2][1][2] == readers.ErrorCell("#DIV/0!")
    assert rows[3][1][0] == readers.ErrorCell("#REF!") and rows[3][1][3] == readers.ErrorCell("#N/A")
    assert rows[1][1][2] == -2.5  # cells around them are untouched


def test_error_cells_in_mapped_columns_are_reported_on_their_cell_not_as_missing(tmp_path):
    path = builders.write_xlsx_with_cached_formulas(tmp_path / "errors.xlsx", "Ledger", ERROR_ROWS,
                                                    formulas=ERROR_FORMULAS)
    result = analysis.analyze(path, today=dt.date(2025, 1, 1))
    assert [(i.row, i.column, i.code, i.value) for i in result.issues if i.severity == "error"] == EXPECTED_ERRORS
    assert not [i for i in result.issues if i.code == "E_REQUIRED_MISSING"]
    div = next(i for i in result.issues if i.value == "#DIV/0!")
    assert div.message.startswith("The cell holds the spreadsheet error #DIV/0!")
    # An optional column (the running balance) with an error: a warning, the balance left empty.
    balance = next(i for i in result.issues if i.value == "#N/A")
    assert (balance.row, balance.column, balance.code, balance.severity) == (4, "D", "W_CELL_ERROR", "warning")


def test_error_values_written_by_openpyxl_are_found_too(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Ledger"
    for row in [HEADER, [dt.date(2024, 3, 1), "Tea", "#DIV/0!", 97.5], ["#REF!", "Cake", -1.0, 96.5]]:
        sheet.append(row)
    sheet["C2"].data_type = "e"
    sheet["A3"].data_type = "e"
    book.save(tmp_path / "errors.xlsx")
    result = analysis.analyze(tmp_path / "errors.xlsx", today=dt.date(2025, 1, 1))
    assert [(i.row, i.column, i.code, i.value) for i in result.issues if i.severity == "error"] == [
        (2, "C", "E_CELL_ERROR", "#DIV/0!"), (3, "A", "E_CELL_ERROR", "#REF!")]


def test_error_values_of_an_ods_are_error_cells(tmp_path):
    """LibreOffice saves an error as a string cell with an empty value and calcext:value-type="error"."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    calcext = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
    document = OpenDocumentSpreadsheet()
    table = Table(name="Ledger")
    for values in [HEADER, ["2024-03-01", "Tea", "#DIV/0!", "1"], ["2024-03-02", "Cake", "-1", "0"]]:
        table_row = TableRow()
        for value in values:
            if value == "#DIV/0!":
                cell = TableCell(formula="of:=1/0", valuetype="string", stringvalue="")
                cell.setAttrNS(calcext, "value-type", "error")
            elif value[0].isdigit() and "-" in value:
                cell = TableCell(valuetype="date", datevalue=value)
            elif value.lstrip("-").isdigit():
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            table_row.addElement(cell)
        table.addElement(table_row)
        if values is HEADER:  # two empty lines, stored as one repeated row: the rows below count them
            blank = TableRow(numberrowsrepeated=2)
            blank.addElement(TableCell(numbercolumnsrepeated=4))
            table.addElement(blank)
    document.spreadsheet.addElement(table)
    document.save(str(tmp_path / "errors.ods"))
    rows = dict(rows_of(tmp_path / "errors.ods", "Ledger"))
    assert rows[4][2] == readers.ErrorCell("#DIV/0!") and rows[5][2] == -1
    result = analysis.analyze(tmp_path / "errors.ods", today=dt.date(2025, 1, 1))
    assert [(i.row, i.column, i.code) for i in result.issues if i.severity == "error"] == [(4, "C", "E_CELL_ERROR")]


def test_error_values_of_an_xls_are_error_cells(tmp_path):
    """Legacy .xls: BOOLERR records carrying an error (xlwt writes them as Excel 97-2003 does)."""
    import xlwt

    book = xlwt.Workbook()
    book.add_sheet("Summary").write(0, 0, "nothing here")
    sheet = book.add_sheet("Ledger")
    for r, values in enumerate([HEADER, ["2024-03-01", "Tea", None, 97.5], [None, "Cake", -1.0, 96.5],
                                ["2024-03-03", "Bus", -2.0, None]]):
        for c, value in enumerate(values):
            if value is not None:
                sheet.write(r, c, value)
    sheet.row(1).set_cell_error(2, "#DIV/0!")
    sheet.row(2).set_cell_error(0, "#REF!")
    sheet.row(3).set_cell_error(3, 0x2A)  # #N/A
    book.save(str(tmp_path / "errors.xls"))
    rows = dict(rows_of(tmp_path / "errors.xls", "Ledger"))
    assert rows[2][2] == readers.ErrorCell("#DIV/0!") and rows[3][0] == readers.ErrorCell("#REF!")
    assert rows[4][3] == readers.ErrorCell("#N/A") and rows[4][2] == -2.0
    result = analysis.analyze(tmp_path / "errors.xls", sheet="Ledger", today=dt.date(2025, 1, 1))
    assert [(i.row, i.column, i.code) for i in result.issues] == [
        (2, "C", "E_CELL_ERROR"), (3, "A", "E_CELL_ERROR"), (4, "D", "W_CELL_ERROR")]


def test_a_workbook_without_error_values_reads_as_before(tmp_path):
    path = builders.write_xlsx(tmp_path / "plain.xlsx", {"Ledger": [HEADER, [dt.date(2024, 3, 1), "Tea", None, 1.0]]})
    assert rows_of(path, "Ledger")[1][1] == [dt.date(2024, 3, 1), "Tea", None, 1.0]  # a blank stays blank


def test_lines_holding_only_error_values_below_the_table_are_skipped(tmp_path):
    """A formula dragged below the last transaction shows #N/A on empty lines: not transactions."""
    rows = [*ERROR_ROWS[:2], [None, None, None, None], [None, None, None, None]]
    path = builders.write_xlsx_with_cached_formulas(
        tmp_path / "dragged.xlsx", "Ledger", rows, formulas={(2, 3): ("=NA()", "#N/A"), (3, 3): ("=NA()", "#N/A")})
    result = analysis.analyze(path, today=dt.date(2025, 1, 1), keep_rows=True)
    assert [r.number for r in result.rows] == [2] and result.issues == []


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
