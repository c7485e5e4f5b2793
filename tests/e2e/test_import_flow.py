"""Importing a statement in a real browser (Debian's chromium through Playwright) against a live server:
sign up, create an account, drop a sample statement on the upload form, watch the job's progress bar
finish, look at the mapping, fix a broken date in the issue view by editing the cell in place, commit,
see the dashboard total change, undo, and see it return. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.e2e.test_browser import CHROMIUM, _nav, _shot, browser_page  # noqa: F401  (the same browser fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # CI sets COFFER_REQUIRE_BROWSER=1 so a missing chromium fails there instead of skipping.
    pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("COFFER_REQUIRE_BROWSER"),
                       reason="needs Debian's chromium at /usr/bin/chromium (apt install chromium)"),
]

SAMPLES = Path(__file__).resolve().parents[1] / "imports" / "samples"
SAMPLE = "samples_statement_en.xlsx"  # row 27: the date 2024-02-31, which we fix in the browser
FIXED_ROW, FIXED_DATE = 27, "2024-01-10"


@pytest.fixture
def expected_total():
    """The dashboard total after the commit, worked out from the file alone (no database, before the browser
    starts): the opening 100.00 plus every row without an error, less the line the file repeats, plus the row
    fixed in the browser."""
    from coffer.imports import analysis

    case = next(case for case in json.loads((SAMPLES / "expected.json").read_text()) if case["file"] == SAMPLE)
    repeated = {issue["row"] for issue in case["issues"] if "W_DUPLICATE_IN_FILE" in issue["codes"]}
    result = analysis.analyze(SAMPLES / SAMPLE, account_currency="EUR", keep_rows=True)
    written = [row for row in result.rows
               if (not row.has_error and row.number not in repeated) or row.number == FIXED_ROW]
    fixed = next(row for row in result.rows if row.number == FIXED_ROW)
    assert fixed.has_error and fixed.amount is not None
    total = Decimal("100") + sum(row.amount for row in written)
    return f"{total.quantize(Decimal('0.01')):,}", len(written)


@pytest.fixture
def slow_job(settings, monkeypatch):
    """Small chunks with a pause after each, so the progress bar is seen moving (the job is the real one)."""
    from coffer.imports import staging

    settings.IMPORT_CHUNK_ROWS = 10
    write_rows = staging.write_rows

    def write_slowly(rows):
        write_rows(rows)
        time.sleep(0.25)

    monkeypatch.setattr(staging, "write_rows", write_slowly)


def _drop_file(page, path: Path) -> None:
    """Drag and drop a file on the drop zone, as a person would from their file manager."""
    page.evaluate(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: "application/octet-stream"}));
            const zone = document.querySelector("[data-dropzone]");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
            }
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode()],
    )


def test_a_person_creates_an_organization_invites_imports_fixes_a_row_commits_and_undoes(
    browser_page, expected_total, slow_job  # noqa: F811
):
    from playwright.sync_api import expect

    page = browser_page
    total_after, rows_written = expected_total
    page.on("dialog", lambda dialog: dialog.accept())  # "Write N rows?", "Remove the transactions?"

    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Ida Importer")
    page.get_by_label("Email").fill("ida@example.test")
    page.get_by_label("Password").fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Sign up").click()
    # The statement goes into an organization's books, not the personal space.
    page.goto("/organizations/new/")
    page.get_by_label("Name").fill("Importer & Co")
    page.get_by_role("button", name="Create the organization").click()
    expect(page.get_by_test_id("current-tenant")).to_have_text("Importer & Co")
    # A bookkeeper is invited to help (the full invitation round trip is in test_browser.py).
    dashboard = page.url
    page.goto(dashboard + "organization/")
    page.get_by_role("link", name="Manage members").click()
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email address").fill("bookkeeper@example.test")
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to bookkeeper@example.test.")).to_be_visible()
    page.goto(dashboard)
    page.get_by_role("link", name="Create your first account").click()
    page.get_by_label("Name").fill("Everyday")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Opening balance").fill("100")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("account-balance")).to_contain_text("100.00")

    # History: empty, with the way to import.
    _nav(page, "Imports")
    expect(page.get_by_test_id("no-imports")).to_be_visible()
    _shot(page, "import-01-history-empty")
    page.get_by_role("link", name="Import a file").first.click()

    # Upload: nothing chosen is refused next to the field; then a file dropped on the zone.
    page.get_by_label("Into account").select_option(label="Everyday (EUR)")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#id_files_error")).to_have_text("Choose at least one file.")
    page.get_by_label("Into account").select_option(label="Everyday (EUR)")
    _drop_file(page, SAMPLES / SAMPLE)
    expect(page.locator("[data-dropzone-list]")).to_contain_text(SAMPLE)
    _shot(page, "import-02-upload")

    # A slow line, so the upload's own progress bar (XMLHttpRequest upload events) is seen before the answer.
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send("Network.emulateNetworkConditions", {"offline": False, "latency": 1500, "downloadThroughput": -1,
                                                       "uploadThroughput": 4096})
    page.get_by_role("button", name="Upload").click()
    upload_bar = page.get_by_test_id("upload-progress")
    expect(upload_bar).to_be_visible()
    expect(upload_bar).to_have_attribute("value", "100")  # chromium reports the bytes as sent at once
    expect(page.locator("[data-upload-label]")).to_have_text("Uploaded; saving…")
    expect(page.get_by_role("button", name="Upload")).to_be_disabled()
    page.wait_for_timeout(400)  # the bar eases to its value
    _shot(page, "import-02b-upload-progress")
    devtools.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                       "uploadThroughput": -1})

    # The import's page: a live progress bar while the job runs, then the summary.
    expect(page).to_have_url(re.compile(r"/imports/[0-9a-f-]{36}/$"))
    expect(page.get_by_text(f"“{SAMPLE}” uploaded; Coffer is reading it.")).to_be_visible()
    bar = page.get_by_test_id("import-progress")
    expect(bar).to_have_attribute("value", re.compile(r"^[1-9]\d?$"), timeout=15_000)  # moving, not yet done
    _shot(page, "import-03-progress")
    expect(page.get_by_test_id("import-status")).to_have_text("Ready for review", timeout=30_000)
    expect(page.get_by_test_id("count-total")).to_have_text("122")
    expect(page.get_by_test_id("count-errors")).to_have_text("3")
    expect(page.get_by_test_id("count-duplicates")).to_have_text("1")
    _shot(page, "import-04-summary")
    import_url = page.url

    # The mapping editor: each column with its header, samples and field.
    page.get_by_role("link", name="Change the mapping").click()
    mapping = page.get_by_test_id("mapping")
    expect(mapping.locator("tbody tr")).to_have_count(5)
    expect(mapping.locator("tbody tr").first).to_contain_text("Date")
    expect(page.get_by_label(re.compile(r"^Use column A "))).to_have_value("date")
    expect(page.get_by_label(re.compile(r"^Use column D "))).to_have_value("amount")
    _shot(page, "import-05-mapping")
    page.get_by_role("link", name="Cancel").click()

    # The issue view: the broken date is highlighted, its message on hover and in the side list.
    page.get_by_role("link", name=re.compile(r"^Review rows")).click()
    row = page.locator(f"#row-{FIXED_ROW}")
    broken = row.locator('td[data-col="A"]')
    expect(broken).to_have_class(re.compile(r"\bcell-error\b"))
    expect(broken).to_have_attribute("title", re.compile(r"E_DATE_INVALID: .*2024-02-31.* is not a date"))
    expect(page.locator(".issue-list")).to_contain_text(f"Row {FIXED_ROW} · A")
    expect(page.get_by_test_id("bar-errors")).to_have_text("3 with errors")
    _shot(page, "import-06-issues")

    # Fix it in place: the row becomes a form, saving swaps the checked row back and the bar follows.
    url_before = page.url
    row.get_by_role("link", name=f"Edit row {FIXED_ROW}").click()
    editing = page.locator(f"tr#row-{FIXED_ROW}.editing")
    expect(editing).to_be_visible()
    assert page.url == url_before
    editing.get_by_label(f"Row {FIXED_ROW}, column A").fill(FIXED_DATE)
    _shot(page, "import-07-inline-edit")
    editing.get_by_role("button", name="Save").click()
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(broken).not_to_have_class(re.compile(r"\bcell-error\b"))
    expect(broken).to_have_text(FIXED_DATE)
    expect(page.get_by_test_id("bar-errors")).to_have_text("2 with errors")
    expect(page.get_by_test_id("bar-commit-count")).to_have_text(f"{rows_written} will be written")
    _shot(page, "import-08-issue-fixed")

    # The error report downloads with the remaining errors.
    with page.expect_download() as download:
        page.get_by_role("link", name="Report .csv").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "E_AMOUNT_INVALID" in report and "E_DATE_INVALID,error" not in report.replace('"', "")
    with page.expect_download() as download:
        page.get_by_role("link", name="Report .xlsx").click()
    assert download.value.suggested_filename == "samples_statement_en-errors.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert [cell.value for cell in workbook["Issues"]["C"]][1:].count("E_AMOUNT_INVALID") == 1

    # Commit (in the background, followed live), then the dashboard shows the new total.
    page.get_by_role("button", name=f"Commit {rows_written} rows").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Committed", timeout=30_000)
    expect(page.get_by_test_id("count-committed")).to_have_text(str(rows_written))
    _shot(page, "import-09-committed")
    _nav(page, "Dashboard")
    expect(page.get_by_test_id("total-EUR")).to_have_text(re.compile(rf"^{re.escape(total_after)}\s+EUR$"))

    # Undo: every transaction of the import goes, and the total returns.
    page.goto(import_url)
    page.get_by_role("button", name="Undo import").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Undone")
    _nav(page, "Dashboard")
    expect(page.get_by_test_id("total-EUR")).to_have_text(re.compile(r"^100\.00\s+EUR$"))

    _nav(page, "Imports")
    expect(page.get_by_test_id("import-history")).to_contain_text(SAMPLE)
    expect(page.get_by_test_id("import-history")).to_contain_text("Undone")
    _shot(page, "import-10-history")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(import_url + "issues/")
    _shot(page, "import-11-issues-phone")

    assert page.problems == [], page.problems  # no CSP violation, no failed asset, no script error
