"""Dates, amounts and rows: column-wide decisions and clear issues."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors as domain_errors
from coffer.imports import issues, parsing
from coffer.imports.parsing import amounts, dates, summary
from coffer.imports.readers import base

D = Decimal


@pytest.mark.parametrize("values,order", [
    (["01/02/2024", "13/02/2024"], "dmy"),
    (["01/02/2024", "02/13/2024"], "mdy"),
    (["01.02.2024", "02.03.2024"], "dmy"),
    (["01/02/2024", "02/03/2024"], "dmy"),
])
def test_date_order_is_decided_for_the_whole_column(values, order):
    assert dates.DateColumn.from_sample(values).order == order


@pytest.mark.parametrize("value,expected", [
    ("2024-03-15", dt.date(2024, 3, 15)), ("2024-03-15T10:00:00", dt.date(2024, 3, 15)),
    ("15.03.2024", dt.date(2024, 3, 15)), ("15/03/24", dt.date(2024, 3, 15)), ("20240315", dt.date(2024, 3, 15)),
    ("15-Mar-2024", dt.date(2024, 3, 15)), ("2 janv. 2024", dt.date(2024, 1, 2)), ("3. März 2024", dt.date(2024, 3, 3)),
    ("15 de marzo de 2024".replace(" de ", " "), dt.date(2024, 3, 15)), ("1 giugno 2024", dt.date(2024, 6, 1)),
    ("March 5, 2024", dt.date(2024, 3, 5)), (45366, dt.date(2024, 3, 15)), (45366.0, dt.date(2024, 3, 15)),
    (dt.datetime(2024, 3, 15, 12, 0), dt.date(2024, 3, 15)), (dt.date(2024, 3, 15), dt.date(2024, 3, 15)),
])
def test_dates_in_every_shape_parse(value, expected):
    assert dates.DateColumn(order="dmy", separator=".").parse(value) == expected


@pytest.mark.parametrize("value", ["31/02/2024", "2024-02-31", "13/13/2024", "tomorrow", "12", True, 5.5, "1.2.3.4"])
def test_impossible_dates_are_invalid(value):
    with pytest.raises(dates.InvalidDate):
        dates.DateColumn(order="dmy").parse(value)


@pytest.mark.parametrize("values,mark", [
    (["2.853,58", "-12,73"], ","), (["2,853.58", "-12.73"], "."), (["1.234", "12,5"], ","), (["1,234", "-7.10"], "."),
])
def test_decimal_mark_is_decided_per_column(values, mark):
    assert amounts.AmountColumn.from_sample(values).decimal_mark == mark


@pytest.mark.parametrize("text,mark,expected", [
    ("2.853,58", ",", "2853.58"), ("2,853.58", ".", "2853.58"), ("-12,73", ",", "-12.73"), ("12,73-", ",", "-12.73"),
    ("(1,234.50)", ".", "-1234.50"), ("€ 12,50", ",", "12.50"), ("12,50 €", ",", "12.50"), ("$89.52", ".", "89.52"),
    ("-$5.00", ".", "-5.00"), ("EUR -3,00", ",", "-3.00"), ("USD 1,000.00", ".", "1000.00"), ("45.10 DR", ".", "-45.10"),
    ("45.10 CR", ".", "45.10"), ("1 234,56", ",", "1234.56"), ("1'234.56", ".", "1234.56"), ("+7.00", ".", "7.00"),
    ("−4,20", ",", "-4.20"), ("£0.99", ".", "0.99"),
])
def test_amount_text_in_every_locale_parses_to_decimal(text, mark, expected):
    assert amounts.AmountColumn(mark).parse(text) == D(expected)


@pytest.mark.parametrize("value", ["12.3O", "1,2,3", "abc", "", "1.23456", True, float("nan"), "1" * 20])
def test_unreadable_amounts_are_invalid(value):
    with pytest.raises(amounts.InvalidAmount):
        amounts.AmountColumn(".").parse(value)


def test_spreadsheet_floats_become_decimals_of_at_most_four_places():
    column = amounts.AmountColumn(".")
    assert column.parse(0.1 + 0.2) == D("0.3000")
    assert column.parse(-43.29) == D("-43.29")
    assert column.parse(147) == D(147)
    assert isinstance(column.parse(1.5), Decimal)


MAPPING = {"date": "A", "description": "B", "amount": "C", "balance": "D"}


def test_missing_required_cells_are_reported_on_their_column():
    row = parsing.parse_row(7, ["", "Tea", "", "1.00"], mapping=MAPPING)
    assert [(i.row, i.column, i.code, i.severity) for i in row.issues] == [
        (7, "A", issues.E_REQUIRED_MISSING, "error"), (7, "C", issues.E_REQUIRED_MISSING, "error")]
    assert row.has_error


def test_invalid_cells_carry_their_raw_value_and_a_readable_message():
    formats = {"dates": {"date": {"order": "dmy", "separator": "/", "proven": True}},
               "amounts": {"amount": {"decimal_mark": ","}}}
    row = parsing.parse_row(9, ["31/02/2024", "Tea", "12.3O", ""], mapping=MAPPING, formats=formats)
    date_issue, amount_issue = row.issues
    assert date_issue.message == "“31/02/2024” is not a date (expected day/month/year like 15/03/2024)."
    assert (date_issue.code, date_issue.column, date_issue.value) == (issues.E_DATE_INVALID, "A", "31/02/2024")
    assert amount_issue.message == "“12.3O” is not an amount (expected a number like -1.234,56)."
    assert (amount_issue.code, amount_issue.column) == (issues.E_AMOUNT_INVALID, "C")


def test_debit_is_an_outflow_and_credit_an_inflow():
    layout = {"date": "A", "description": "B", "debit": "C", "credit": "D"}
    assert parsing.parse_row(2, ["2024-03-01", "Tea", "2.50", ""], mapping=layout).amount == D("-2.50")
    assert parsing.parse_row(3, ["2024-03-01", "Refund", "", "4.00"], mapping=layout).amount == D("4.00")
    assert parsing.parse_row(4, ["2024-03-01", "Signed", "-2.50", ""], mapping=layout).amount == D("-2.50")
    empty = parsing.parse_row(5, ["2024-03-01", "None", "", ""], mapping=layout)
    assert [(i.column, i.code) for i in empty.issues] == [("C", issues.E_REQUIRED_MISSING)]
    bad = parsing.parse_row(6, ["2024-03-01", "Bad", "", "x1"], mapping=layout)
    assert [(i.column, i.code) for i in bad.issues] == [("D", issues.E_AMOUNT_INVALID)] and bad.amount is None


def test_direction_column_gives_the_sign():
    layout = {"date": "A", "description": "B", "direction": "C", "amount": "D"}
    assert parsing.parse_row(2, ["20240301", "AH", "Af", "12,50"], mapping=layout).amount == D("-12.50")
    assert parsing.parse_row(3, ["20240301", "Salaris", "Bij", "2500,00"], mapping=layout).amount == D("2500.00")


def test_invalid_currency_code_is_an_error():
    row = parsing.parse_row(2, ["2024-03-01", "Tea", "1.00", "EURO"], mapping={"date": 0, "description": 1,
                                                                             "amount": 2, "currency": 3})
    assert [(i.code, i.column) for i in row.issues] == [(issues.E_CURRENCY_INVALID, "D")]


def test_mapping_accepts_letters_or_indexes_and_refuses_unknown_fields():
    assert parsing.normalise_mapping({"date": "A", "amount": 2, "balance": "AA"}) == {"date": 0, "amount": 2,
                                                                                      "balance": 26}
    with pytest.raises(domain_errors.ValidationError):
        parsing.normalise_mapping({"colour": "A"})
    with pytest.raises(domain_errors.ValidationError):
        parsing.normalise_mapping({"date": "A1"})


@pytest.mark.parametrize("text", ["Total", "Closing balance", "Endsaldo", "Solde final", "Saldo final", "Totaal",
                                  "Saldo finale", "Opening balance:", "Anfangssaldo", "TOTAL DEBITS"])
def test_summary_lines_are_recognised(text):
    assert summary.is_summary_row([None, text, None, "1.00"], has_date=False, has_amount=False)
    assert summary.is_summary_row([None, text, "-5.00", "1.00"], has_date=False, has_amount=True)


def test_opening_balance_with_a_date_but_no_amount_is_a_summary_line():
    assert summary.is_summary_row(["01.03.2024", "Anfangssaldo", None, "1.000,00"], has_date=True, has_amount=False)


def test_a_dated_transaction_is_never_a_summary_line():
    assert not summary.is_summary_row(["2024-03-01", "Total Energies", "-40.00"], has_date=True, has_amount=True)
    assert not summary.is_summary_text("Totalitarian Books")


def test_a_merchant_named_like_a_total_with_its_date_missing_is_reported_not_skipped():
    assert not summary.is_summary_row([None, "Total Energies Paris", "-40.00"], has_date=False, has_amount=True)
    row = parsing.parse_row(4, ["", "Total Energies Paris", "-40.00", ""], mapping=MAPPING)
    assert [i.code for i in row.issues] == [issues.E_REQUIRED_MISSING]


def test_column_letters_follow_spreadsheet_naming():
    assert [issues.column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
    assert all(issues.column_index(issues.column_letter(i)) == i for i in range(2000))


def test_parse_rows_skips_blank_summary_and_repeated_header_lines():
    class Book:
        format = "csv"

        def iter_rows(self, sheet=None):
            data = [["Date", "Description", "Amount"], ["2024-03-01", "Tea", "-2.00"], [], ["Date", "Description", "Amount"],
                    ["2024-03-02", "Cake", "-3.00"], ["", "see overleaf", ""], ["", "Total", "-5.00"]]
            for number, cells in enumerate(data, start=1):
                yield base.RawRow(number, [c or None for c in cells])

    stream = parsing.parse_rows(Book(), None, header_row=1, mapping={"date": 0, "description": 1, "amount": 2})
    assert [r.number for r in stream] == [2, 5]
    assert (stream.rows_total, stream.skipped_blank, stream.skipped_summary, stream.skipped_notes) == (2, 1, 1, 2)


def test_an_ambiguous_date_sample_is_decided_by_a_later_row_before_any_row_is_parsed():
    class Book:
        format = "csv"

        def iter_rows(self, sheet=None):
            yield base.RawRow(1, ["Date", "Description", "Amount"])
            for number in range(2, 30):
                yield base.RawRow(number, [f"03/{(number % 12) + 1:02d}/2024", "Tea", "-1.00"])
            yield base.RawRow(30, ["03/25/2024", "Cake", "-2.00"])

    stream = parsing.RowStream(Book(), None, header_row=1, mapping={"date": 0, "description": 1, "amount": 2},
                               sample_rows=10)
    parsed = list(stream)
    assert stream.formats.dates["date"].order == "mdy"
    assert parsed[0].booked_on == dt.date(2024, 3, 3) and not any(r.issues for r in parsed)
