"""Every sample statement, through the real pipeline (CLI, in process), reaches its expected outcome."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from coffer.ledger.models import Account, Transaction
from tests import factories

SAMPLES = Path(__file__).parent / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())
needs_reader = pytest.mark.skipif(
    importlib.util.find_spec("coffer.imports.readers") is None, reason="the reader half is not in the tree yet"
)


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


@needs_reader
@pytest.mark.parametrize("case", EXPECTED, ids=[case["file"] for case in EXPECTED])
def test_sample_reaches_its_expected_outcome(case, tenant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    if case.get("after"):
        first = run_cli(SAMPLES / case["after"], tenant, "--commit")
        assert first["status"] == "committed", first
    result = run_cli(SAMPLES / case["file"], tenant, *(["--commit"] if case.get("after") else []))

    assert result["status"] == ("committed" if case.get("after") else "review"), result.get("error")
    assert result["format"] == case["format"]
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


@needs_reader
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
