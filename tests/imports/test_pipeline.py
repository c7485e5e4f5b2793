"""Every sample statement, through the real pipeline (CLI, in process), reaches its expected outcome."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from coffer.imports.models import ImportBatch
from coffer.ledger.models import Account, Transaction
from tests import factories

SAMPLES = Path(__file__).parent / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())


def run_cli(path: Path, tenant, *extra: str) -> dict:
    out = io.StringIO()
    call_command("import", str(path), "--tenant", tenant.slug, "--account", "Main", "--create-account", "EUR",
                 "--json", *extra, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def tenant(db):
    return factories.organization(factories.user())


def _issues_on(result: dict, row: int) -> list[dict]:
    return [issue for issue in result["issues"] if issue["row"] == row]


@pytest.mark.parametrize("case", EXPECTED, ids=[case["file"] for case in EXPECTED])
def test_sample_reaches_its_expected_outcome(case, tenant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    if case.get("after"):
        first = run_cli(SAMPLES / case["after"], tenant, "--commit")
        assert first["status"] == "committed", first
    result = run_cli(SAMPLES / case["file"], tenant, *(["--commit"] if case.get("after") else []))

    batch = ImportBatch.objects.get(pk=result["import_id"])
    assert result["status"] == ("committed" if case.get("after") else "review"), batch.error
    assert batch.format == case["format"]
    if case.get("sheet"):
        assert result["sheet"] == case["sheet"]
    assert result["header_row"] == case["header_row"]
    assert result["mapping"] == case["mapping"]
    assert result["rows_total"] == case["rows_total"]
    assert result["rows_with_errors"] == case["rows_with_errors"]
    for expected in case["issues"]:
        found = [
            issue for issue in _issues_on(result, expected["row"])
            if issue["code"] in expected["codes"] and (expected["column"] is None or issue["column"] == expected["column"])
        ]
        assert found, f"row {expected['row']}: expected one of {expected['codes']}, got {_issues_on(result, expected['row'])}"
    for row in case.get("must_not_flag", []):
        flagged = [i for i in _issues_on(result, row) if i["code"].startswith(("E_", "W_DUPLICATE"))]
        assert flagged == [], f"row {row} must not be flagged"
    for row in case.get("must_not_error_rows", []):
        assert [i for i in _issues_on(result, row) if i["severity"] == "error"] == []
    if "rows_committed" in case:
        assert result["rows_committed"] == case["rows_committed"]
        account = Account.objects.get(tenant=tenant, name="Main")
        assert Transaction.objects.filter(account=account).count() == first["rows_committed"] + case["rows_committed"]


def test_the_same_file_committed_twice_adds_nothing_the_second_time(tenant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = run_cli(SAMPLES / "samples_overlap_a.csv", tenant, "--commit")
    second = run_cli(SAMPLES / "samples_overlap_a.csv", tenant, "--commit")
    assert first["rows_committed"] == first["rows_total"] - first["rows_with_errors"] - first["rows_duplicate"]
    assert second["rows_committed"] == 0
    assert second["rows_duplicate"] == second["rows_total"]
    assert {i["code"] for i in second["issues"]} == {"W_DUPLICATE_EXISTING"}
    account = Account.objects.get(tenant=tenant, name="Main")
    assert Transaction.objects.filter(account=account).count() == first["rows_committed"]


def test_a_row_in_another_currency_than_the_account_is_an_error(tenant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "currencies.csv"
    path.write_text("Date,Description,Amount,Currency\n2024-03-01,Coffee,-3.50,EUR\n2024-03-02,Hotel,-80.00,USD\n")
    result = run_cli(path, tenant)
    assert [(i["row"], i["column"], i["code"]) for i in result["issues"]] == [(3, "D", "E_CURRENCY_MISMATCH")]
    assert (result["rows_total"], result["rows_valid"], result["rows_with_errors"]) == (2, 1, 1)


def test_an_edited_date_is_read_in_the_order_its_column_proved(tenant, settings, tmp_path):
    from coffer.imports import services
    from coffer.imports.models import StagedRow

    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "us.csv"
    # 12/31 proves month-first for the whole column.
    path.write_text("Date,Description,Amount\n12/31/2023,Rent,-900.00\n01/02/2024,Coffee,-3.50\n"
                    "13/13/2024,Typo,-1.00\n")
    result = run_cli(path, tenant)
    assert [(i["row"], i["code"]) for i in result["issues"]] == [(4, "E_DATE_INVALID")]
    owner = tenant.memberships.get().user
    row = services.import_row_edit(tenant=tenant, actor=owner, import_id=result["import_id"], row_number=4,
                                   cells={"A": "03/04/2024"})
    assert row.booked_on.isoformat() == "2024-03-04" and not row.has_error
    assert StagedRow.objects.get(pk=row.pk).issues == []


def test_an_edited_row_in_another_currency_gets_the_currency_error(tenant, settings, tmp_path):
    from coffer.imports import services

    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "edit.csv"
    path.write_text("Date,Description,Amount,Currency\n2024-03-01,Coffee,-3.50,EUR\n")
    result = run_cli(path, tenant)
    owner = tenant.memberships.get().user
    row = services.import_row_edit(tenant=tenant, actor=owner, import_id=result["import_id"], row_number=2,
                                   cells={"D": "GBP"})
    assert row.has_error and [i["code"] for i in row.issues] == ["E_CURRENCY_MISMATCH"]
