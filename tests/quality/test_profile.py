"""The column profile: types and consistency, blanks, distinct values, min/max, top values, formats."""

from __future__ import annotations

import datetime as dt

from coffer.imports.readers import base
from coffer.quality import cells, profile
from tests.imports import builders
from tests.quality import sheets
from tests.quality.sheets import analyse, clean_rows


def _column(result, name):
    return next(column for column in result.profile["columns"] if column["name"] == name)


def test_profile_of_a_typed_workbook(tmp_path):
    rows = clean_rows(100)
    rows[3][4] = "n/a"
    rows[4][2] = None
    result = analyse(sheets.xlsx(tmp_path, rows), "Data")
    assert (result.profile["rows"], result.profile["header_row"], result.profile["data_rows"]) == (101, 1, 100)
    amount = _column(result, "Amount")
    assert (amount["column"], amount["type"], amount["consistency"]) == ("E", "number", 0.99)
    assert amount["kinds"] == {"number": 99, "text": 1}
    numbers = [row[4] for row in rows[1:] if isinstance(row[4], float)]
    assert float(amount["min"]) == min(numbers) and float(amount["max"]) == max(numbers)
    assert "median" in amount and "mad" in amount
    date = _column(result, "Date")
    assert (date["type"], date["min"], date["max"]) == ("date", "2024-01-01", "2024-02-03")
    assert date["formats"] == {"date": 100} and date["mixed_formats"] is False
    customer = _column(result, "Customer")
    assert (customer["filled"], customer["blanks"], customer["blank_ratio"]) == (99, 1, 0.01)
    invoice = _column(result, "Invoice")
    assert (invoice["distinct"], invoice["distinct_exact"], invoice["unique"]) == (100, True, True)
    city = _column(result, "City")
    assert city["distinct"] == 5
    assert sum(item["count"] for item in city["top"]) == 100
    assert city["top"][0]["count"] >= city["top"][-1]["count"]


def test_profile_of_text_shows_number_and_date_formats(tmp_path):
    rows = [["Date", "Amount"]] + [[f"{d:02d}.03.2024", f"-{d},50"] for d in range(1, 29)]
    rows[10][0] = "2024-03-10"
    result = analyse(builders.write_csv(tmp_path / "t.csv", rows))
    date, amount = result.profile["columns"]
    assert date["type"] == "date" and date["formats"] == {"dd.mm.yyyy": 27, "yyyy-mm-dd": 1}
    assert date["mixed_formats"] is True
    assert amount["type"] == "number" and amount["formats"] == {"decimal comma": 28}
    assert (amount["min"], amount["max"]) == ("-28,50", "-1,50")


def test_title_lines_above_the_header_are_not_data(tmp_path):
    rows = [["Account statement"], ["Account:", "DE89 3704 0044 0532 0130 00"], [None],
            ["Date", "Description", "Amount"]] + [[dt.date(2024, 1, d), f"Shop {d}", -d * 1.5] for d in range(1, 21)]
    result = analyse(builders.write_xlsx(tmp_path / "titled.xlsx", {"S": rows}), "S")
    assert result.header_row == 4
    assert [c["name"] for c in result.profile["columns"]] == ["Date", "Description", "Amount"]
    assert result.profile["data_rows"] == 20


def test_without_a_header_columns_are_named_by_letter(tmp_path):
    rows = [[dt.date(2024, 1, d), d * 2.0] for d in range(1, 30)]
    result = analyse(builders.write_xlsx(tmp_path / "bare.xlsx", {"S": rows}), "S")
    assert result.header_row is None
    assert [c["name"] for c in result.profile["columns"]] == ["A", "B"]
    assert result.profile["data_rows"] == 29


def test_distinct_counts_are_exact_when_small_and_estimated_within_a_few_percent_when_large():
    counter = profile.DistinctCounter()
    for i in range(500):
        counter.add(f"v{i % 300}")
    assert (counter.exact, counter.estimate()) == (True, 300)
    big = profile.DistinctCounter()
    for i in range(200_000):
        big.add(f"value-{i}")
    assert big.exact is False
    assert abs(big.estimate() - 200_000) / 200_000 < 0.1


def test_top_values_stay_bounded_and_keep_the_frequent_values():
    top = profile.TopCounter(capacity=100)
    for i in range(50_000):
        top.add("common" if i % 10 == 0 else f"rare-{i}")
    assert len(top.counts) <= 200
    assert top.top(1)[0][0] == "common"
    assert top.exact is False


def test_cell_kinds_and_formats():
    assert cells.classify(None) == (cells.BLANK, None)
    assert cells.classify(base.ErrorCell("#REF!")) == (cells.ERROR, None)
    assert cells.classify(12.5) == (cells.NUMBER, "number")
    assert cells.classify(dt.datetime(2024, 1, 2, 10, 0)) == (cells.DATE, "datetime")
    assert cells.classify("1.234,56") == (cells.NUMBER, "decimal comma")
    assert cells.classify("1,234.56") == (cells.NUMBER, "decimal point")
    assert cells.classify("-$1,234.50") == (cells.NUMBER, "decimal point")
    assert cells.classify("1,234") == (cells.NUMBER, "grouped")
    assert cells.classify("00123") == (cells.TEXT, None)  # a code keeps its zeros
    assert cells.classify("15/01/2024") == (cells.DATE, "dd/mm/yyyy")
    assert cells.classify("01/15/2024") == (cells.DATE, "mm/dd/yyyy")
    assert cells.classify("05/06/2024") == (cells.DATE, "nn/nn/yyyy")
    assert cells.classify("31.02.2024") == (cells.TEXT, None)
    assert cells.classify("3 March 2024") == (cells.DATE, "d month yyyy")
    assert not cells.formats_conflict("dd/mm/yyyy", "nn/nn/yyyy")
    assert cells.formats_conflict("dd/mm/yyyy", "mm/dd/yyyy")
    assert cells.formats_conflict("decimal point", "decimal comma")
    assert not cells.formats_conflict("decimal point", "grouped")
    assert cells.formats_conflict("number", "integer")  # a number typed as text among number cells


def test_cells_round_trip_through_the_row_store_json():
    values = [None, "text", 12, 12.5, True, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5), dt.time(10, 30),
              dt.timedelta(hours=1, minutes=2), base.ErrorCell("#DIV/0!")]
    assert [cells.from_json(cells.to_json(value)) for value in values] == values
