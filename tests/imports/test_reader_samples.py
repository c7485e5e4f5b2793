"""Every shared sample, through the pure pipeline, reaches what expected.json lists
(duplicates excepted: they are found later, in SQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from coffer.imports import analysis

SAMPLES = Path(__file__).parent / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())
TODAY = dt.date(2025, 1, 1)


@pytest.fixture(scope="module", params=EXPECTED, ids=[case["file"] for case in EXPECTED])
def case(request):
    expected = request.param
    return expected, analysis.analyze(SAMPLES / expected["file"], account_currency="EUR", today=TODAY)


def test_sample_is_read_as_its_format_from_the_expected_sheet(case):
    expected, result = case
    assert result.format == expected["format"]
    assert result.sheet == expected.get("sheet")


def test_sample_header_row_and_mapping_are_found(case):
    expected, result = case
    assert result.header_row == expected["header_row"]
    assert result.mapping == expected["mapping"]
    assert result.confidence >= 0.8


def test_sample_counts_only_transaction_rows(case):
    expected, result = case
    assert result.rows_total == expected["rows_total"]
    assert result.rows_with_errors == expected["rows_with_errors"]


def test_sample_seeded_problems_are_reported_on_their_row_and_column(case):
    expected, result = case
    for seeded in expected["issues"]:
        if any(code.startswith("W_DUPLICATE") for code in seeded["codes"]):
            continue
        found = [
            issue for issue in result.issues_on(seeded["row"])
            if issue.code in seeded["codes"] and (seeded["column"] is None or issue.column == seeded["column"])
        ]
        assert found, f"row {seeded['row']}: expected {seeded['codes']}, got {result.issues_on(seeded['row'])}"


def test_sample_lookalike_rows_and_summary_lines_are_not_errors(case):
    expected, result = case
    for row in expected.get("must_not_flag", []) + expected.get("must_not_error_rows", []):
        assert [i for i in result.issues_on(row) if i.severity == "error"] == [], row
    errors = {i.row for i in result.issues if i.severity == "error"}
    seeded = {s["row"] for s in expected["issues"] if any(c.startswith("E_") for c in s["codes"])}
    assert errors == seeded


def test_sample_issue_messages_are_sentences_with_the_raw_value(case):
    _, result = case
    for issue in result.issues:
        assert issue.message.endswith((".", "?")) and len(issue.message) > 20
        if issue.code in ("E_DATE_INVALID", "E_AMOUNT_INVALID"):
            assert issue.value and issue.value in issue.message


def test_german_sample_is_cp1252_with_semicolons():
    result = analysis.analyze(SAMPLES / "samples_girokonto_de.csv", today=TODAY)
    assert (result.encoding, result.delimiter) == ("cp1252", ";")
    assert result.formats["amounts"]["amount"] == {"decimal_mark": ","}


def test_ledger_workbook_lists_every_sheet_but_picks_the_ledger_over_the_summary():
    result = analysis.analyze(SAMPLES / "samples_ledger_fr.xlsx", today=TODAY)
    assert [(s.name, s.rows, s.columns) for s in result.sheets] == [("Summary", 3, 1), ("Ledger", 122, 6)]
    assert result.sheet == "Ledger"


def test_us_card_dates_are_month_first_for_the_whole_column():
    result = analysis.analyze(SAMPLES / "samples_card_us.csv", today=TODAY, keep_rows=True)
    assert result.formats["dates"]["date"]["order"] == "mdy"
    first = result.rows[0]
    assert first.booked_on == dt.date(2024, 5, 2)
    assert str(first.amount) == "-89.52"  # a debit is an outflow
    salary = next(r for r in result.rows if r.description.startswith("Salary"))
    assert salary.amount > 0
