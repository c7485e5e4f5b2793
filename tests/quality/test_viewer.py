"""The workbook viewer: every sheet, every row, 100 a page, cells as typed in the file."""

from __future__ import annotations

import datetime as dt

from coffer.imports import readers
from coffer.quality import cells, viewer
from tests.imports import builders
from tests.quality import sheets
from tests.quality.sheets import analyse


def _typed(row):
    return [cells.typed(cell) for cell in row.cells]


def test_cells_keep_their_types_dates_numbers_formula_results_and_errors(tmp_path):
    rows = [["Date", "Item", "Price", "Qty", "Total"],
            [dt.date(2024, 3, 1), "Tea", 2.5, 4, None],
            [dt.date(2024, 3, 2), "Cake", 3.75, 2, None]]
    path = builders.write_xlsx_with_cached_formulas(
        tmp_path / "typed.xlsx", "Shop", rows,
        formulas={(1, 4): ("=C2*D2", 10), (2, 4): ("=C3*#REF!", "#REF!")},
    )
    page = viewer.page(path, sheet="Shop", store=None)
    assert [row.number for row in page.rows] == [1, 2, 3]
    assert _typed(page.rows[1]) == [
        {"type": "date", "value": "2024-03-01"}, {"type": "text", "value": "Tea"},
        {"type": "number", "value": "2.5"}, {"type": "number", "value": "4"}, {"type": "number", "value": "10"},
    ]
    assert _typed(page.rows[2])[4] == {"type": "error", "value": "#REF!"}


def test_every_sheet_is_listed_with_its_size(tmp_path):
    path = builders.write_xlsx(tmp_path / "two.xlsx", {"First": [["a", "b"], [1, 2]], "Second": [["x"]] * 250})
    assert [(s.name, s.rows, s.columns) for s in viewer.sheets(path)] == [("First", 2, 2), ("Second", 250, 1)]


def _big(tmp_path, count=450):
    rows = [["N", "Label"]] + [[i, f"row {i}"] for i in range(1, count + 1)]
    return builders.write_xlsx(tmp_path / "big.xlsx", {"Big": rows})


def test_pages_hold_100_rows_and_jump_to_row_finds_its_page(tmp_path):
    path = _big(tmp_path)
    first = viewer.page(path, sheet="Big", store=None, rows_total=451)
    assert (first.number, first.pages, [r.number for r in first.rows][:2], len(first.rows)) == (1, 5, [1, 2], 100)
    third = viewer.page(path, sheet="Big", store=None, number=3, rows_total=451)
    assert [third.rows[0].number, third.rows[-1].number] == [201, 300]
    jumped = viewer.page(path, sheet="Big", store=None, row=357, rows_total=451)
    assert jumped.number == 4 and 357 in [r.number for r in jumped.rows]
    last = viewer.page(path, sheet="Big", store=None, number=99, rows_total=451)
    assert last.number == 5 and [r.number for r in last.rows] == [401 + i for i in range(51)]


def test_pages_from_the_row_store_equal_pages_read_from_the_file(tmp_path):
    path = _big(tmp_path)
    store = tmp_path / "store"
    analyse(path, "Big", store=store)
    for number in (1, 2, 5):
        stored = viewer.page(path, sheet="Big", store=store, number=number)
        streamed = viewer.page(path, sheet="Big", store=None, number=number, rows_total=451)
        assert stored.from_store and not streamed.from_store
        assert [(r.number, r.cells) for r in stored.rows] == [(r.number, r.cells) for r in streamed.rows]
    assert viewer.page(path, sheet="Big", store=store, row=357).number == 4
    assert viewer.page(path, sheet="Big", store=store, number=1).pages == 5


def test_a_csv_is_one_sheet_and_its_rows_are_its_lines(tmp_path):
    path = sheets.csv(tmp_path, sheets.clean_rows(120))
    assert [(s.name, s.rows) for s in viewer.sheets(path)] == [(None, 121)]
    page = viewer.page(path, sheet=None, store=None, number=2, rows_total=121)
    assert [r.number for r in page.rows] == [101 + i for i in range(21)]
    assert cells.typed(page.rows[0].cells[1]) == {"type": "text", "value": "2024-02-03"}


def test_blank_rows_and_title_rows_are_shown_as_they_are(tmp_path):
    rows = [["Statement"], [None], ["Date", "Amount"], [dt.date(2024, 1, 1), 1.5]]
    path = builders.write_xlsx(tmp_path / "t.xlsx", {"S": rows})
    page = viewer.page(path, sheet="S", store=None)
    assert [(r.number, r.is_blank()) for r in page.rows] == [(1, False), (2, True), (3, False), (4, False)]


def test_an_unknown_sheet_is_a_clear_error(tmp_path):
    path = _big(tmp_path, 5)
    try:
        viewer.page(path, sheet="Nope", store=None)
    except readers.UnreadableFile as exc:
        assert "no sheet named 'Nope'" in exc.message
    else:
        raise AssertionError("expected UnreadableFile")
