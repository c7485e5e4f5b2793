"""`coffer import`: exit codes and messages for files and names it cannot use."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from coffer.imports.models import ImportBatch, StagedRow
from coffer.ledger.models import Account, Transaction
from tests import factories

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def tenant(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return factories.organization(factories.user())


def test_an_unknown_tenant_is_an_error(tenant):
    with pytest.raises(CommandError, match="No tenant 'nobody'"):
        call_command("import", str(SAMPLES / "samples_overlap_a.csv"), "--tenant", "nobody", "--account", "Main")
    assert not ImportBatch.objects.exists()


def test_an_unknown_account_is_an_error_without_create_account(tenant):
    with pytest.raises(CommandError, match="--create-account"):
        call_command("import", str(SAMPLES / "samples_overlap_a.csv"), "--tenant", tenant.slug, "--account", "Nope")
    assert not Account.objects.filter(tenant=tenant).exists() and not ImportBatch.objects.exists()


def test_a_missing_file_is_an_error(tenant):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import", "/nonexistent/file.csv", "--tenant", tenant.slug, "--account", "Main",
                     "--create-account", "EUR")


def test_a_bad_currency_for_a_new_account_is_an_error(tenant):
    with pytest.raises(CommandError, match="ISO 4217"):
        call_command("import", str(SAMPLES / "samples_overlap_a.csv"), "--tenant", tenant.slug, "--account", "Main",
                     "--create-account", "EURO")


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_kept(tenant, settings, tmp_path):
    settings.IMPORT_MAX_FILE_BYTES = 100
    with pytest.raises(CommandError, match="larger than the limit"):
        call_command("import", str(SAMPLES / "samples_overlap_a.csv"), "--tenant", tenant.slug, "--account", "Main",
                     "--create-account", "EUR")
    assert not ImportBatch.objects.exists()
    assert not list((tmp_path / "imports").rglob("*.*")) if (tmp_path / "imports").exists() else True


def test_a_corrupt_workbook_fails_with_a_clear_message_and_no_rows(tenant, tmp_path):
    broken = tmp_path / "statement.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 200)
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", str(broken), "--tenant", tenant.slug, "--account", "Main", "--create-account", "EUR",
                     "--json", stdout=io.StringIO(), stderr=err)
    assert "Cannot import statement.xlsx" in str(caught.value)
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and batch.error and "internal error" not in batch.error
    assert not StagedRow.objects.exists() and not Transaction.objects.exists()


def test_a_file_over_the_row_limit_fails_and_leaves_no_staged_rows(tenant, settings):
    settings.IMPORT_MAX_ROWS = 10
    with pytest.raises(CommandError):
        call_command("import", str(SAMPLES / "samples_overlap_a.csv"), "--tenant", tenant.slug, "--account", "Main",
                     "--create-account", "EUR", "--commit", stdout=io.StringIO())
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and "10" in batch.error
    assert not StagedRow.objects.exists() and not Transaction.objects.exists()


def test_json_output_has_the_documented_keys_and_exit_zero_with_row_errors(tenant):
    out = io.StringIO()
    call_command("import", str(SAMPLES / "samples_card_us.csv"), "--tenant", tenant.slug, "--account", "Card",
                 "--create-account", "USD", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert set(result) == {"import_id", "status", "sheet", "header_row", "mapping", "rows_total", "rows_valid",
                           "rows_with_errors", "rows_duplicate", "rows_committed", "issues"}
    assert result["status"] == "review" and result["rows_with_errors"] > 0 and result["rows_committed"] == 0
    assert set(result["issues"][0]) == {"row", "column", "code", "severity", "message", "value"}
    assert not Transaction.objects.exists()


def test_spreadsheet_error_cells_are_reported_as_cell_errors_in_the_json(tenant, tmp_path):
    import datetime as dt

    from tests.imports import builders

    rows = [["Date", "Description", "Amount"], [dt.date(2024, 3, 1), "Tea", -2.5], [dt.date(2024, 3, 2), "Cake", None]]
    path = builders.write_xlsx_with_cached_formulas(tmp_path / "ledger.xlsx", "Ledger", rows,
                                                    formulas={(2, 2): ("=C2/0", "#DIV/0!")})
    out = io.StringIO()
    call_command("import", str(path), "--tenant", tenant.slug, "--account", "Main", "--create-account", "EUR",
                 "--json", "--commit", stdout=out)
    result = json.loads(out.getvalue())
    assert result["rows_total"] == 2 and result["rows_with_errors"] == 1 and result["rows_committed"] == 1
    assert result["issues"] == [{
        "row": 3, "column": "C", "code": "E_CELL_ERROR", "severity": "error", "value": "#DIV/0!",
        "message": "The cell holds the spreadsheet error #DIV/0! instead of the amount; fix the formula in the "
                   "file, or type the value here.",
    }]
