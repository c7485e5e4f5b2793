"""`coffer validate FILE [--sheet NAME] [--ai] [--json]`: one JSON object, clear errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.imports import builders
from tests.quality import sheets


def validate(*args) -> dict:
    out = io.StringIO()
    call_command("validate", *map(str, args), "--json", stdout=out)
    return json.loads(out.getvalue())


def test_json_holds_the_sheets_the_profile_and_the_issues_in_the_import_shape(tmp_path):
    rows = sheets.clean_rows(40)
    rows[3][2] = " Customer 3"
    path = builders.write_xlsx(tmp_path / "book.xlsx", {"Cover": [["Summary"]], "Data": rows})
    report = validate(path, "--sheet", "Data")
    assert set(report) == {"file", "format", "sheet", "sheets", "profile", "issues", "counts"}
    assert report["sheets"] == [{"name": "Cover", "rows": 1, "columns": 1}, {"name": "Data", "rows": 41, "columns": 7}]
    assert (report["format"], report["sheet"], report["profile"]["header_row"]) == ("xlsx", "Data", 1)
    assert report["issues"] == [{"row": 4, "column": "C", "code": "W_SURROUNDING_SPACES", "severity": "warning",
                                 "message": "The text has leading spaces: 'Customer 3'", "value": " Customer 3",
                                 "source": "rules"}]
    assert report["counts"] == {"W_SURROUNDING_SPACES": 1}


def test_without_sheet_the_first_visible_sheet_with_data_is_checked(tmp_path):
    path = builders.write_xlsx(tmp_path / "book.xlsx", {"Empty": [], "Data": sheets.clean_rows(10)})
    assert validate(path)["sheet"] == "Data"


def test_a_csv_is_checked_and_its_sheet_has_no_name(tmp_path):
    report = validate(sheets.csv(tmp_path, sheets.clean_rows(25)))
    assert report["sheets"] == [{"name": None, "rows": 26, "columns": 7}] and report["issues"] == []
    with pytest.raises(CommandError, match="CSV"):
        validate(sheets.csv(tmp_path, sheets.clean_rows(5), name="other.csv"), "--sheet", "X")


def test_plain_output_is_a_readable_summary(tmp_path):
    rows = sheets.clean_rows(40)
    rows[9][4] = "n/a"
    out = io.StringIO()
    call_command("validate", str(sheets.xlsx(tmp_path, rows)), stdout=out)
    text = out.getvalue()
    assert "sheet Data: 41 rows, 7 columns, 1 findings listed" in text
    assert "E10 W_TYPE_MISMATCH" in text


@pytest.mark.parametrize("case", ["missing", "corrupt", "unknown sheet", "too large"])
def test_files_it_cannot_use_are_errors_with_a_message(tmp_path, settings, case):
    path = tmp_path / "book.xlsx"
    if case == "corrupt":
        path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 200)
    elif case in ("unknown sheet", "too large"):
        builders.write_xlsx(path, {"Data": sheets.clean_rows(5)})
    if case == "too large":
        settings.IMPORT_MAX_FILE_BYTES = 100
    args = [path, "--sheet", "Nope"] if case == "unknown sheet" else [path]
    expected = {"missing": "No such file", "corrupt": "damaged", "unknown sheet": "no sheet named 'Nope'",
                "too large": "larger than the limit"}[case]
    with pytest.raises(CommandError, match=expected):
        validate(*args)


def test_ai_without_a_provider_configured_is_a_clear_error(tmp_path, settings, db):
    settings.LLM_PROVIDER = ""
    with pytest.raises(CommandError, match="No LLM provider is configured"):
        validate(sheets.xlsx(tmp_path, sheets.clean_rows(5)), "--ai")
