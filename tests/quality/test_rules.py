"""Each rule family finds its problem planted in an otherwise clean sheet, and clean sheets raise nothing."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from coffer.quality import rules
from tests.imports import builders
from tests.quality import sheets
from tests.quality.sheets import analyse, clean_rows, found

# Row r of the table is spreadsheet row r + 1 (the header is row 1).


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_clean_sheet_raises_no_finding_at_all(tmp_path, fmt):
    path = getattr(sheets, fmt)(tmp_path, clean_rows(300))
    result = analyse(path, "Data" if fmt == "xlsx" else None)
    assert result.findings == []
    assert result.counts == {}
    assert result.header_row == 1


def test_a_clean_bank_statement_with_salaries_rent_and_a_running_balance_raises_nothing(tmp_path):
    chance = random.Random(3)
    rows = [["Date", "Description", "Debit", "Credit", "Balance"]]
    balance = 1500.0
    for i in range(240):
        if i % 30 == 0:
            debit, credit = None, 2850.0  # salary: credit only (Debit blank, Credit filled)
        elif i % 30 == 1:
            debit, credit = 950.0, None  # rent
        else:
            debit, credit = round(chance.uniform(3, 120), 2), None
        balance = round(balance - (debit or 0) + (credit or 0), 2)
        rows.append([dt.date(2024, 1, 1) + dt.timedelta(days=i // 2), f"Shop {chance.randrange(60)}", debit, credit,
                     balance - 250_000])  # a balance drifting far from its median
    result = analyse(builders.write_xlsx(tmp_path / "bank.xlsx", {"Statement": rows}), "Statement")
    assert found(result) == []


def test_error_cells_are_errors_with_the_error_as_value(tmp_path):
    rows = clean_rows(30)
    path = builders.write_xlsx_with_cached_formulas(
        tmp_path / "errors.xlsx", "Data", rows,
        formulas={(4, 4): ("=1/0", "#DIV/0!"), (9, 5): ("=Z99+#REF!", "#REF!"), (12, 2): ("=NA()", "#N/A")},
    )
    result = analyse(path, "Data")
    errors = [f for f in result.findings if f.code == "E_SPREADSHEET_ERROR"]
    assert [(f.row, f.column, f.value, f.severity) for f in errors] == [
        (5, "E", "#DIV/0!", "error"), (10, "F", "#REF!", "error"), (13, "C", "#N/A", "error")]
    assert "#DIV/0!" in errors[0].message
    assert not [f for f in result.findings if f.code == "W_TYPE_MISMATCH"]  # an error is not a type break


def test_text_among_numbers_and_an_impossible_date_break_their_column_type(tmp_path):
    rows = clean_rows(60)
    rows[10][4] = "n/a"
    rows[20][1] = "31.02.2024"
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    assert found(result, "W_TYPE_MISMATCH") == [(11, "E", "W_TYPE_MISMATCH"), (21, "B", "W_TYPE_MISMATCH")]
    message = next(f.message for f in result.findings if f.column == "E")
    assert "'n/a' is text in column E (Amount), whose values are numbers" == message


def test_a_column_of_mixed_text_and_numbers_is_not_judged_as_numbers(tmp_path):
    rows = [["Code", "Name"]] + [[f"A{i}" if i % 3 else i, f"Name {i}"] for i in range(60)]
    assert found(analyse(sheets.xlsx(tmp_path, rows), "Data"), "W_TYPE_MISMATCH") == []


def test_blanks_in_a_nearly_always_filled_column(tmp_path):
    rows = clean_rows(60)
    rows[5][2] = None
    rows[40][2] = None
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    assert found(result, "W_BLANK_IN_FILLED_COLUMN") == [(6, "C", "W_BLANK_IN_FILLED_COLUMN"),
                                                         (41, "C", "W_BLANK_IN_FILLED_COLUMN")]


def test_a_mostly_empty_column_and_blank_rows_are_not_blanks(tmp_path):
    rows = clean_rows(60)
    for row in rows[1:]:
        row.append("note" if len(row) % 7 == 0 and random.Random(len(rows)).random() < 0.3 else None)
    rows[1][7] = "a note"
    rows.insert(30, [None] * 7)  # a blank row in the middle
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    assert found(result, "W_BLANK_IN_FILLED_COLUMN") == []


def test_a_row_that_repeats_an_earlier_row_is_a_duplicate(tmp_path):
    rows = clean_rows(50)
    rows.insert(31, list(rows[12]))
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    duplicates = [f for f in result.findings if f.code == "W_DUPLICATE_ROW"]
    assert [(f.row, f.column) for f in duplicates] == [(32, None)]
    assert duplicates[0].message == "This row repeats row 13 exactly"


def test_a_repeated_id_in_an_otherwise_unique_column_is_flagged_with_its_value(tmp_path):
    rows = clean_rows(80)
    rows[50][0] = rows[7][0]
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    repeats = [f for f in result.findings if f.code == "W_DUPLICATE_VALUE"]
    assert [(f.row, f.column, f.value) for f in repeats] == [(51, "A", "INV-1006")]
    assert "also in row 8" in repeats[0].message


def test_repeated_values_in_columns_that_are_not_ids_are_not_duplicates(tmp_path):
    rows = clean_rows(80)
    rows[30][4] = rows[3][4]  # the same amount twice: normal
    rows[31][2] = rows[4][2]  # the same customer twice: normal
    assert found(analyse(sheets.xlsx(tmp_path, rows), "Data"), "W_DUPLICATE_VALUE") == []


def test_an_amount_with_three_zeros_too_many_is_an_outlier(tmp_path):
    rows = clean_rows(100)
    rows[42][4] = rows[42][4] * 10_000
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    assert found(result, "W_OUTLIER") == [(43, "E", "W_OUTLIER")]
    assert "far outside the usual values of column E (Amount)" in result.findings[0].message


def test_a_date_typed_as_text_and_a_second_text_format_are_mixed_formats(tmp_path):
    rows = clean_rows(60)
    rows[10][1] = "2024-01-04"  # text among date cells
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    assert found(result, "W_MIXED_FORMAT") == [(11, "B", "W_MIXED_FORMAT")]
    text_rows = sheets.as_text(clean_rows(60))
    text_rows[20][1] = "15.01.2024"
    text_rows[30][4] = "1234,50"
    result = analyse(builders.write_csv(tmp_path / "mixed.csv", text_rows))
    assert found(result, "W_MIXED_FORMAT") == [(21, "B", "W_MIXED_FORMAT"), (31, "E", "W_MIXED_FORMAT")]
    messages = [f.message for f in result.findings if f.code == "W_MIXED_FORMAT"]
    assert "'15.01.2024' is written with the format dd.mm.yyyy; most of column B (Date) uses the format yyyy-mm-dd" \
        == messages[0]


def test_day_first_and_month_first_dates_in_one_column_are_mixed(tmp_path):
    rows = [["Date", "Amount"]] + [[f"{d:02d}/01/2024", d] for d in range(13, 31)] + [["01/25/2024", 1]]
    result = analyse(builders.write_csv(tmp_path / "order.csv", rows))
    assert found(result, "W_MIXED_FORMAT") == [(20, "A", "W_MIXED_FORMAT")]


def test_ambiguous_forms_do_not_conflict(tmp_path):
    rows = [["Date", "Amount"]] + [[f"{d:02d}/01/2024", f"{d},50"] for d in range(1, 31)]
    rows[5][1] = "12"  # a whole number fits any decimal mark
    assert found(analyse(builders.write_csv(tmp_path / "fine.csv", rows)), "W_MIXED_FORMAT") == []


def test_leading_and_trailing_spaces(tmp_path):
    rows = clean_rows(40)
    rows[3][2] = " Customer 3"
    rows[9][2] = "Customer 9  "
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    spaces = [f for f in result.findings if f.code == "W_SURROUNDING_SPACES"]
    assert [(f.row, f.column, f.value) for f in spaces] == [(4, "C", " Customer 3"), (10, "C", "Customer 9  ")]
    assert "leading" in spaces[0].message and "trailing" in spaces[1].message


def test_one_category_spelled_several_ways(tmp_path):
    rows = clean_rows(60)
    rows[7][3] = "paris "
    rows[8][3] = "PARIS"
    rows[9][3] = "Pâris"
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    variants = [f for f in result.findings if f.code == "W_SPELLING_VARIANT"]
    assert [(f.row, f.column, f.value) for f in variants] == [(8, "D", "paris "), (9, "D", "PARIS"), (10, "D", "Pâris")]
    assert "is written 'Paris' in" in variants[1].message


def test_free_text_is_not_a_category(tmp_path):
    rows = [["Note", "Amount"]] + [[f"Delivery {i} left at door", i] for i in range(60)]
    rows[5][0] = "delivery 0 LEFT at door"
    assert found(analyse(sheets.xlsx(tmp_path, rows), "Data"), "W_SPELLING_VARIANT") == []


def test_findings_are_capped_per_column_but_all_counted(tmp_path, monkeypatch):
    from coffer.quality.rules import base

    monkeypatch.setattr(base, "MAX_PER_COLUMN", 5)
    rows = clean_rows(60)
    for row in rows[1:21]:
        row[2] = f" {row[2]}"
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    assert len([f for f in result.findings if f.code == "W_SURROUNDING_SPACES"]) == 5
    assert result.counts["W_SURROUNDING_SPACES"] == {"C": 20}


def test_every_family_has_a_code_a_title_and_a_description():
    described = rules.describe()
    assert [item["family"] for item in described] == list(rules.FAMILIES)
    assert len({item["code"] for item in described}) == len(described) == 9
    for item in described:
        assert item["code"].startswith(("E_", "W_")) and item["title"] and item["description"]
        assert item["severity"] == ("error" if item["code"].startswith("E_") else "warning")
