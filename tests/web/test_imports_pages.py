"""The import pages: history, upload, the import's page with live progress, mapping editor, issue view with
inline edits, commit/undo and the error report — each role on each page, strangers, bad input, escaping
and bounded queries.

Staged rows are built straight in the staging table (tests/imports/test_report.stage_rows) where a test is
about the page rather than the reader; the real pipeline runs in-process (jobs.run_now) where the page
reads the file itself (the mapping editor's header and samples).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from coffer.audit.models import AuditEntry
from coffer.imports import jobs, report, services
from coffer.imports.models import ImportBatch, MappingPreset, StagedRow
from coffer.ledger.models import Transaction
from tests import factories
from tests.imports.test_report import HYPERLINK, issue, parsed, stage_rows

pytestmark = [
    pytest.mark.django_db,
    # The report views stream with async iterators (right under ASGI); Django's test client consumes them
    # synchronously and says so.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators"),
]

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ["owner", "admin", "member", "viewer"]
WRITERS = {"owner", "admin", "member"}
Status = ImportBatch.Status
CSV_FILE = b"Date,Description,Amount\n2024-03-01,Coffee,-3.50\n2024-03-02,Salary,1200.00\n2024-02-31,Broken,-1.00\n"

ROWS = [
    parsed(2, day=1, amount="-3.50", description="Coffee"),
    parsed(3, day=None, description="Broken date", issues=[issue(3, "A", "E_DATE_INVALID", value="2024-02-31",
                                                                message="“2024-02-31” is not a date.")],
           raw=["2024-02-31", "Broken date", "-1.00"]),
    parsed(4, day=2, amount="-5000.00", description=HYPERLINK,
           issues=[issue(4, "C", "W_OUTLIER_AMOUNT", "warning", value="-5000.00", message="Far larger than the others.")]),
    parsed(5, day=3, amount="-40.00", description="Groceries"),
    parsed(6, day=3, amount="-40.00", description="Groceries"),  # the same line twice: flagged
]


# --- arrange -----------------------------------------------------------------------------


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="100")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def enqueued(monkeypatch):
    """The job runner, replaced by a list of the batch ids it was asked to run."""
    calls: list[str] = []
    monkeypatch.setattr(jobs, "enqueue", lambda batch_id: calls.append(str(batch_id)))
    return calls


@pytest.fixture
def commits_inline(monkeypatch):
    """The background commit job, run in this thread when the request's transaction commits (with
    django_capture_on_commit_callbacks(execute=True)); the ids it was given are recorded."""
    calls: list[str] = []

    def run(batch_id, actor_id=None):
        calls.append(str(batch_id))
        services.import_commit_run(batch_id=batch_id, actor_id=actor_id)

    monkeypatch.setattr(jobs, "enqueue_commit", run)
    return calls


@pytest.fixture
def batch(account, org):
    return stage_rows(account, ROWS, file_name="March.csv", created_by=org.people["member"])


@pytest.fixture
def stranger():
    """Another organization with an import of its own; nobody of `org` is in it."""
    tenant = factories.organization(factories.user(), name="Elsewhere")
    return stage_rows(factories.account(tenant, name="Theirs"), ROWS, file_name="secret-statement.csv")


def state(batch: ImportBatch) -> tuple:
    """Everything a write could change."""
    fresh = ImportBatch.objects.get(pk=batch.pk)
    rows = list(StagedRow.objects.filter(batch=batch).order_by("row_number").values_list(
        "row_number", "raw", "excluded", "import_anyway", "accepted_warnings", "edited", "has_error"))
    return ((fresh.status, fresh.mapping, fresh.header_row, fresh.rows_committed, fresh.rows_with_errors), rows,
            Transaction.objects.filter(tenant=batch.tenant).count(), AuditEntry.objects.filter(tenant=batch.tenant).count())


def nothing_stored(media) -> bool:
    files = [path for path in media.rglob("*") if path.is_file()] if media.exists() else []
    return not ImportBatch.objects.exists() and files == []


def upload_file(name="statement.csv", content=CSV_FILE):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def real_import(org, account, media, *, content=CSV_FILE, name="statement.csv") -> ImportBatch:
    """An upload read by the real pipeline, in this thread."""
    batch = services.import_create(tenant=org.tenant, actor=org.people["member"], account_id=account.pk,
                                   file_name=name, content=io.BytesIO(content), enqueue=False)
    jobs.run_now(batch.pk)
    batch.refresh_from_db()
    return batch


def imp(org, batch, rest: str = "") -> str:
    return org.url(f"imports/{batch.pk}/{rest}")


# --- every role on every page ---------------------------------------------------------------

READ_PAGES = ["", "status/", "issues/", "mapping/", "rows/3/", "report.csv", "report.xlsx"]


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_history_the_import_its_rows_and_its_report(org, batch, role):
    client = org.client(role)
    assert client.get(org.url("imports/")).status_code == 200
    for rest in READ_PAGES:
        assert client.get(imp(org, batch, rest)).status_code == 200, rest


# name -> (arranged status, path, data, status when allowed)
WRITES = {
    "upload": (Status.REVIEW, "imports/new/", None, 302),
    "commit": (Status.REVIEW, "commit/", {}, 302),
    "undo": (Status.COMMITTED, "undo/", {}, 302),
    "retry": (Status.FAILED, "retry/", {}, 302),
    "mapping": (Status.REVIEW, "mapping/", {"col_A": "date", "col_B": "description", "col_C": "amount",
                                            "header_row": "1"}, 302),
    "edit": (Status.REVIEW, "rows/3/edit/", {"cell_A": "2024-03-09", "cell_B": "Broken date", "cell_C": "-1.00"}, 302),
    "flags": (Status.REVIEW, "rows/2/flags/", {"excluded": "1"}, 302),
    "bulk": (Status.REVIEW, "rows/bulk/", {"rows": ["2", "5"], "action": "exclude"}, 302),
}


def _arrange(batch, status, person):
    if status == Status.COMMITTED:
        services.import_commit(tenant=batch.tenant, actor=person, import_id=batch.pk)
    elif status == Status.FAILED:
        ImportBatch.objects.filter(pk=batch.pk).update(status=Status.FAILED, error="The file is damaged")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_members_and_up_may_change_an_import_and_a_viewer_is_refused_with_nothing_changed(
    org, account, batch, media, enqueued, role, name
):
    arranged, path, data, allowed = WRITES[name]
    _arrange(batch, arranged, org.people["owner"])
    before = state(batch)
    client = org.client(role)
    if name == "upload":
        response = client.post(org.url(path), {"account": str(account.pk), "files": [upload_file()]})
    else:
        response = client.post(imp(org, batch, path), data)
    if role == "viewer":
        assert response.status_code == 403
        assert b"Not allowed" in response.content
        assert state(batch) == before and ImportBatch.objects.count() == 1 and enqueued == []
    else:
        assert response.status_code == allowed, response.content.decode()[:500]
        assert state(batch) != before or ImportBatch.objects.count() == 2


@pytest.mark.parametrize("role", ROLES)
def test_the_forms_that_change_an_import_are_for_members_and_up(org, batch, role):
    client = org.client(role)
    expected = 200 if role in WRITERS else 403
    assert client.get(org.url("imports/new/")).status_code == expected
    assert client.get(imp(org, batch, "rows/3/edit/")).status_code == expected
    assert client.get(imp(org, batch, "rows/3/edit/"), **HTMX).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_buttons_a_role_cannot_use_are_not_shown(org, batch, role):
    client = org.client(role)
    history = client.get(org.url("imports/")).content.decode()
    detail = client.get(imp(org, batch)).content.decode()
    issues = client.get(imp(org, batch, "issues/")).content.decode()
    mapping = client.get(imp(org, batch, "mapping/")).content.decode()

    writes = role in WRITERS
    assert ("Import a file" in history) == writes
    assert (f"imports/{batch.pk}/commit/" in detail) == writes
    assert (f"imports/{batch.pk}/commit/" in issues) == writes
    assert ("rows/3/edit/" in issues) == writes and ("rows/3/flags/" in issues) == writes
    assert ('id="bulk-rows"' in issues) == writes
    assert ('name="col_A"' in mapping) == writes
    assert "Review rows" in detail  # reading the rows is for everyone


def test_a_committed_import_offers_undo_to_writers_only(org, batch):
    services.import_commit(tenant=org.tenant, actor=org.people["owner"], import_id=batch.pk)
    assert f"imports/{batch.pk}/undo/" in org.client("member").get(imp(org, batch)).content.decode()
    assert f"imports/{batch.pk}/undo/" not in org.client("viewer").get(imp(org, batch)).content.decode()


# --- strangers -----------------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_import_page_and_action(org, batch, media, enqueued):
    client = org.client("outsider")
    before = state(batch)
    for rest in READ_PAGES:
        response = client.get(imp(org, batch, rest))
        assert response.status_code == 404, rest
        assert b"March.csv" not in response.content
    assert client.get(org.url("imports/")).status_code == 404
    assert client.get(org.url("imports/new/")).status_code == 404
    for _, path, data, _ in WRITES.values():
        target = org.url(path) if path.startswith("imports/") else imp(org, batch, path)
        assert client.post(target, data or {}).status_code == 404, path
    assert state(batch) == before and enqueued == []


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_import_is_404_through_this_tenants_pages_and_untouched(org, stranger, role):
    client = org.client(role)
    before = state(stranger)
    for rest in READ_PAGES:
        response = client.get(imp(org, stranger, rest))
        assert response.status_code == 404, rest
        assert b"secret-statement" not in response.content
    for _, path, data, _ in WRITES.values():
        if not path.startswith("imports/"):
            assert client.post(imp(org, stranger, path), data or {}).status_code in (403, 404), path
    assert state(stranger) == before


def test_a_malformed_import_id_is_404(org):
    assert org.client("owner").get(org.url("imports/not-a-uuid/")).status_code == 404
    assert org.client("owner").post(org.url("imports/not-a-uuid/commit/")).status_code == 404


def test_another_tenants_account_cannot_be_the_upload_target(org, account, media, enqueued):
    theirs = factories.account(factories.organization(org.people["outsider"]), name="Theirs")

    response = org.client("member").post(org.url("imports/new/"), {"account": str(theirs.pk), "files": [upload_file()]})

    assert response.status_code == 422
    assert "account" in response.context["form"].errors
    assert b"Theirs" not in response.content
    assert nothing_stored(media) and enqueued == []


# --- history ----------------------------------------------------------------------------------


def test_history_lists_each_import_with_status_counts_who_and_when(org, batch):
    page = org.client("viewer").get(org.url("imports/")).content.decode()

    assert "March.csv" in page and "Ready for review" in page and "into Current" in page
    assert org.people["member"].name in page
    row = page[page.index("March.csv"):]
    assert [int(n) for n in _numbers(row)[:5]] == [5, 4, 1, 1, 0]  # rows, valid, errors, duplicates, committed


def _numbers(html: str) -> list[str]:
    cells = re.findall(r'<td class="num[^"]*">(?:<span[^>]*>)?(\d+)', html)
    return cells


def test_history_pages_through_every_import_once_and_filters_by_status(org, account):
    for i in range(55):
        stage_rows(account, ROWS[:1], file_name=f"file-{i}.csv")
    ImportBatch.objects.filter(file_name="file-3.csv").update(status=Status.FAILED)
    client = org.client("viewer")

    first = client.get(org.url("imports/"))
    seen = [b.pk for b in first.context["batches"]]
    fragment = client.get(first.context["more_url"], **HTMX)
    assert "<html" not in fragment.content.decode()
    seen += [b.pk for b in fragment.context["batches"]]
    assert len(seen) == len(set(seen)) == 55 and fragment.context["more_url"] is None

    failed = client.get(org.url("imports/?status=failed"))
    assert [b.file_name for b in failed.context["batches"]] == ["file-3.csv"]
    assert client.get(org.url("imports/?cursor=garbage")).status_code == 400


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_history_runs_the_same_bounded_number_of_queries_for_3_or_60_imports(org, account,
                                                                               django_assert_max_num_queries):
    people = [factories.user(name=f"P{i}") for i in range(3)]
    for i in range(3):
        stage_rows(account, ROWS[:1], created_by=people[i])
    client = org.client("member")
    few = _count(client, org.url("imports/"))
    for i in range(57):
        stage_rows(account, ROWS[:1], created_by=people[i % 3])

    with django_assert_max_num_queries(8):
        response = client.get(org.url("imports/"))
    assert _count(client, org.url("imports/")) == few
    assert len(response.context["batches"]) == 50


def test_the_issue_view_runs_the_same_bounded_number_of_queries_for_5_or_250_rows(org, account,
                                                                                   django_assert_max_num_queries):
    small = stage_rows(account, [parsed(n, day=None, issues=[issue(n, "A", "E_DATE_INVALID")]) for n in range(2, 7)])
    big = stage_rows(account, [parsed(n, day=None, issues=[issue(n, "A", "E_DATE_INVALID")]) for n in range(2, 252)])
    client = org.client("member")
    for query in ("issues/", "issues/?show=all", "issues/?severity=error&code=E_DATE_INVALID", "mapping/"):
        few = _count(client, imp(org, small, query))
        with django_assert_max_num_queries(10):
            response = client.get(imp(org, big, query))
        assert _count(client, imp(org, big, query)) == few, query
        if "views" in response.context:
            assert len(response.context["views"]) == 100


# --- upload ---------------------------------------------------------------------------------------


def test_a_member_uploads_a_file_and_lands_on_its_page_with_the_job_started(
    org, account, media, enqueued, django_capture_on_commit_callbacks
):
    client = org.client("member")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(org.url("imports/new/"), {"account": str(account.pk), "files": [upload_file("März.csv")]})

    created = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == imp(org, created)
    assert (created.file_name, created.account_id, created.created_by) == ("März.csv", account.pk, org.people["member"])
    assert enqueued == [str(created.pk)]
    page = client.get(response["Location"]).content.decode()
    assert "“März.csv” uploaded" in page and 'hx-trigger="every 1s"' in page


def test_several_files_become_several_imports_and_the_history_is_shown(org, account, media, enqueued):
    response = org.client("member").post(org.url("imports/new/"), {
        "account": str(account.pk), "files": [upload_file("a.csv"), upload_file("b.csv")],
    })

    assert response.status_code == 302 and response["Location"] == org.url("imports/")
    assert sorted(ImportBatch.objects.values_list("file_name", flat=True)) == ["a.csv", "b.csv"]


def test_an_upload_over_htmx_answers_with_the_page_to_go_to(org, account, media, enqueued):
    response = org.client("member").post(org.url("imports/new/"), {"account": str(account.pk),
                                                                   "files": [upload_file()]}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == imp(org, ImportBatch.objects.get())


@pytest.mark.parametrize(("files", "message"), [
    ([], "Choose at least one file."),
    ([("empty.csv", b"")], "“empty.csv” is empty."),
    ([("big.csv", b"x" * 2048)], "“big.csv” is larger than the limit of"),
    ([("ok.csv", CSV_FILE), ("big.csv", b"x" * 2048)], "“big.csv” is larger than the limit of"),
])
def test_bad_files_get_a_clear_message_next_to_the_field_and_nothing_is_stored(
    org, account, media, enqueued, settings, files, message
):
    settings.IMPORT_MAX_FILE_BYTES = 1024
    data = {"account": str(account.pk), "files": [upload_file(name, content) for name, content in files]}

    response = org.client("member").post(org.url("imports/new/"), data)

    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors["files"])
    assert b'id="id_files_error"' in response.content
    assert response.context["form"].too_large == [name for name, content in files if len(content) > 1024]
    assert nothing_stored(media) and enqueued == []


def test_a_bad_upload_over_htmx_gets_the_form_back_with_its_errors(org, account, media, enqueued):
    response = org.client("member").post(org.url("imports/new/"), {"account": str(account.pk)}, **HTMX)

    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html and "data-upload-card" in html and "Choose at least one file." in html
    assert nothing_stored(media)


def test_an_upload_without_an_account_or_into_an_archived_one_is_refused(org, account, media, enqueued):
    archived = factories.account(org.tenant, name="Closed")
    org.client("owner").post(org.url(f"accounts/{archived.pk}/archive/"), {"archived": "1"})
    client = org.client("member")

    for target in ("", str(archived.pk), "not-an-id"):
        response = client.post(org.url("imports/new/"), {"account": target, "files": [upload_file()]})
        assert response.status_code == 422, target
        assert "account" in response.context["form"].errors
    assert nothing_stored(media) and enqueued == []


def test_the_upload_form_says_what_to_do_when_there_is_no_account(org):
    page = org.client("member").get(org.url("imports/new/")).content.decode()
    assert "There is no open account to import into yet." in page and "data-upload " not in page


def test_an_upload_without_the_csrf_token_is_refused(org, account, media, enqueued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.people["member"])
    response = client.post(org.url("imports/new/"), {"account": str(account.pk), "files": [upload_file()]})
    assert response.status_code == 403
    assert nothing_stored(media)


# --- the import's page and its live progress ---------------------------------------------------------


def test_while_the_job_runs_the_status_card_polls_and_shows_progress(org, batch):
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.VALIDATING, rows_validated=2,
                                                   sheets=[{"name": "Sheet1", "rows": 5, "columns": 3}])
    client = org.client("viewer")

    page = client.get(imp(org, batch)).content.decode()
    partial = client.get(imp(org, batch, "status/"), **HTMX)

    for html in (page, partial.content.decode()):
        assert 'hx-trigger="every 1s"' in html and f'hx-get="{imp(org, batch, "status/")}"' in html
        assert '<progress max="100" value="50"' in html and "Checked 2 rows of about 4" in html
    assert "<html" not in partial.content.decode()


@pytest.mark.parametrize("status", [Status.QUEUED, Status.READING, Status.COMMITTING])
def test_a_step_without_a_known_size_shows_a_moving_bar(org, batch, status):
    ImportBatch.objects.filter(pk=batch.pk).update(status=status)
    html = org.client("viewer").get(imp(org, batch, "status/")).content.decode()
    assert 'hx-trigger="every 1s"' in html and '<progress max="100" aria-label' in html  # no value: indeterminate


def test_once_finished_the_status_card_stops_polling_and_shows_the_summary(org, batch):
    html = org.client("member").get(imp(org, batch, "status/"), **HTMX).content.decode()

    assert "hx-trigger" not in html
    for testid, value in (("count-total", 5), ("count-valid", 4), ("count-errors", 1), ("count-duplicates", 1),
                          ("count-committed", 0)):
        assert f'data-testid="{testid}">{value}<' in html
    assert "Commit 3 rows" in html  # 5 rows - 1 error - 1 duplicate


def test_a_failed_import_shows_its_error_and_may_be_retried(org, batch, enqueued, django_capture_on_commit_callbacks):
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.FAILED, error="The file is password-protected <b>")
    client = org.client("member")

    page = client.get(imp(org, batch)).content.decode()
    assert "The file is password-protected &lt;b&gt;" in page and "Try again" in page and "hx-trigger" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(imp(org, batch, "retry/"), follow=True)
    assert ImportBatch.objects.get(pk=batch.pk).status == Status.QUEUED and enqueued == [str(batch.pk)]
    assert "Reading “March.csv” again." in response.content.decode()


def test_the_real_pipeline_reaches_review_and_the_page_shows_its_counts(org, account, media):
    batch = real_import(org, account, media)
    html = org.client("viewer").get(imp(org, batch)).content.decode()
    assert batch.status == Status.REVIEW
    assert 'data-testid="count-total">3<' in html and 'data-testid="count-errors">1<' in html


# --- commit and undo ---------------------------------------------------------------------------------------


def test_commit_runs_in_the_background_writes_the_counted_rows_and_undo_takes_them_back(
    org, account, batch, commits_inline, django_capture_on_commit_callbacks
):
    client = org.client("member")
    assert "Commit 3 rows" in client.get(imp(org, batch)).content.decode()

    with django_capture_on_commit_callbacks() as jobs_to_run:
        response = client.post(imp(org, batch, "commit/"))
    assert response.status_code == 302 and response["Location"] == imp(org, batch)
    committing = client.get(response["Location"]).content.decode()
    assert "Committing “March.csv”" in committing and 'hx-trigger="every 1s"' in committing
    assert ImportBatch.objects.get(pk=batch.pk).status == Status.COMMITTING and not Transaction.objects.exists()

    for job in jobs_to_run:  # the worker takes the job
        job()
    assert commits_inline == [str(batch.pk)]
    committed = client.get(imp(org, batch, "status/"), **HTMX).content.decode()
    account.refresh_from_db()
    assert Transaction.objects.filter(import_batch=batch).count() == 3
    assert account.balance == Decimal("100") - Decimal("3.50") - Decimal("5000") - Decimal("40")
    assert 'data-testid="count-committed">3<' in committed and "hx-trigger" not in committed

    undone = client.post(imp(org, batch, "undo/"), follow=True).content.decode()
    account.refresh_from_db()
    assert not Transaction.objects.filter(import_batch=batch).exists() and account.balance == 100
    assert "Undone" in undone and "Undone: the transactions of “March.csv” were removed." in undone


def test_commit_and_undo_in_the_wrong_state_say_why_and_change_nothing(org, batch):
    client = org.client("member")
    before = state(batch)

    undo = client.post(imp(org, batch, "undo/"), follow=True).content.decode()
    assert "only a committed import can be undone" in undo and state(batch) == before

    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.VALIDATING)
    before = state(batch)
    commit = client.post(imp(org, batch, "commit/"), follow=True).content.decode()
    assert "cannot be committed" in commit and state(batch) == before


def test_commit_and_undo_only_answer_post(org, batch):
    assert org.client("member").get(imp(org, batch, "commit/")).status_code == 405
    assert org.client("member").get(imp(org, batch, "undo/")).status_code == 405
    assert not Transaction.objects.exists()


# --- the issue view ---------------------------------------------------------------------------------------------


def test_the_issue_view_shows_the_files_rows_with_offending_cells_highlighted_and_the_message_on_hover(org, batch):
    response = org.client("viewer").get(imp(org, batch, "issues/"))
    html = response.content.decode()

    assert [view.number for view in response.context["views"]] == [3, 4, 6]
    assert '<strong>3</strong> will be written' in html
    assert '<td class="cell cell-error" data-col="A" title="E_DATE_INVALID: “2024-02-31” is not a date.">2024-02-31</td>' in html
    assert 'class="cell cell-warning" data-col="C" title="W_OUTLIER_AMOUNT: Far larger than the others.">' in html
    assert '<th scope="row" class="rownum cell-warning" title="W_DUPLICATE_IN_FILE: This line repeats row 5' in html
    for letter in ("A", "B", "C"):
        assert f'<span class="col-letter">{letter}</span>' in html
    assert "Date (booking)" in html  # the field column A is mapped to
    side = html[html.index('id="issue-list-title"'):]
    assert 'href="#row-3"' in side and "“2024-02-31” is not a date." in side and "E_DATE_INVALID" in side


@pytest.mark.parametrize(("query", "rows"), [
    ("severity=error", [3]),
    ("severity=warning", [4, 6]),
    ("code=W_OUTLIER_AMOUNT", [4]),
    ("code=W_DUPLICATE_IN_FILE", [6]),
    ("code=E_DATE_INVALID&severity=warning", []),
    ("show=all", [2, 3, 4, 5, 6]),
    ("show=all&start=4", [4, 5, 6]),
])
def test_the_issue_view_filters_by_code_and_severity(org, batch, query, rows):
    response = org.client("viewer").get(imp(org, batch, f"issues/?{query}"))
    assert [view.number for view in response.context["views"]] == rows


def test_a_bad_filter_shows_an_error_next_to_it(org, batch):
    response = org.client("viewer").get(imp(org, batch, "issues/?code=E_NOPE&start=0"))
    assert set(response.context["form"].errors) == {"code", "start"}
    assert response.context["views"] == []


def test_the_issue_view_pages_by_100_rows_each_row_once(org, account):
    batch = stage_rows(account, [parsed(n, day=None, issues=[issue(n, "A", "E_DATE_INVALID")]) for n in range(2, 252)])
    client = org.client("viewer")

    seen, url = [], imp(org, batch, "issues/?severity=error")
    while url:
        response = client.get(url)
        assert len(response.context["views"]) <= 100
        seen += [view.number for view in response.context["views"]]
        url = response.context["next_url"]
        if url:
            assert "severity=error" in url
    assert seen == list(range(2, 252))


def test_an_inline_edit_swaps_a_form_row_in_and_saving_fixes_the_row_and_refreshes_the_summary(org, batch):
    client = org.client("member")

    form_row = client.get(imp(org, batch, "rows/3/edit/"), **HTMX).content.decode()
    assert '<tr id="row-3" class="sheet-row editing">' in form_row and "<html" not in form_row
    assert 'form="edit-row-3"' in form_row and 'value="2024-02-31"' in form_row

    saved = client.post(imp(org, batch, "rows/3/edit/"),
                        {"cell_A": "2024-03-09", "cell_B": "Broken date", "cell_C": "-1.00"}, **HTMX)
    assert saved.status_code == 200 and "import-changed" in saved["HX-Trigger"]
    html = saved.content.decode()
    assert '<tr id="row-3"' in html and "editing" not in html and "cell-error" not in html and "edited" in html
    row = StagedRow.objects.get(batch=batch, row_number=3)
    assert (row.has_error, row.raw[0], row.edited) == (False, "2024-03-09", True)
    assert ImportBatch.objects.get(pk=batch.pk).rows_with_errors == 0

    bar = client.get(imp(org, batch, "status/?part=bar"), **HTMX).content.decode()
    assert 'hx-trigger="import-changed from:body"' in bar and "<strong>4</strong> will be written" in bar


def test_an_inline_edit_that_changes_nothing_calls_no_service(org, batch):
    before = state(batch)
    response = org.client("member").post(imp(org, batch, "rows/3/edit/"),
                                         {"cell_A": "2024-02-31", "cell_B": "Broken date", "cell_C": "-1.00"}, **HTMX)
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert state(batch) == before


def test_editing_a_committed_import_says_so_and_changes_nothing(org, batch):
    services.import_commit(tenant=org.tenant, actor=org.people["owner"], import_id=batch.pk)
    client = org.client("member")
    before = state(batch)

    over_htmx = client.post(imp(org, batch, "rows/3/edit/"), {"cell_A": "2024-03-09"}, **HTMX)
    assert over_htmx.status_code == 422
    assert "The import is committed; rows and mapping can only change while it is in review" in over_htmx.content.decode()
    plain = client.post(imp(org, batch, "rows/3/edit/"), {"cell_A": "2024-03-09"})
    assert plain.status_code == 422 and b"only change while it is in review" in plain.content
    flags = client.post(imp(org, batch, "rows/2/flags/"), {"excluded": "1"}, **HTMX)
    assert flags.status_code == 422 and b"only change while it is in review" in flags.content
    bulk = client.post(imp(org, batch, "rows/bulk/"), {"rows": ["2"], "action": "exclude"}, follow=True)
    assert b"only change while it is in review" in bulk.content
    mapping = client.post(imp(org, batch, "mapping/"), {"col_A": "date", "col_C": "amount", "header_row": "1"})
    assert mapping.status_code == 422 and b"only change while it is in review" in mapping.content
    assert state(batch) == before


def test_an_edit_of_a_row_the_import_does_not_have_is_404(org, batch):
    assert org.client("member").post(imp(org, batch, "rows/99/edit/"), {"cell_A": "x"}).status_code == 404
    assert org.client("member").post(imp(org, batch, "rows/99/flags/"), {"excluded": "1"}).status_code == 404


def test_the_edit_page_without_javascript_saves_and_goes_back_to_the_filtered_view(org, batch):
    client = org.client("member")
    back = imp(org, batch, "issues/?severity=error")

    page = client.get(imp(org, batch, "rows/3/edit/") + f"?next={back}")
    assert "<html" in page.content.decode() and page.context["here"] == back
    response = client.post(imp(org, batch, "rows/3/edit/"), {"cell_A": "2024-03-09", "cell_B": "Broken date",
                                                             "cell_C": "-1.00", "next": back})
    assert response.status_code == 302 and response["Location"] == back + "#row-3"

    evil = client.post(imp(org, batch, "rows/3/flags/"), {"excluded": "1", "next": "https://evil.example/"})
    assert evil["Location"] == imp(org, batch, "issues/") + "#row-3"


def test_exclude_import_anyway_and_accept_warnings_row_by_row(org, batch):
    client = org.client("member")

    excluded = client.post(imp(org, batch, "rows/2/flags/"), {"excluded": "1"}, **HTMX)
    assert "import-changed" in excluded["HX-Trigger"] and "Excluded" in excluded.content.decode()
    anyway = client.post(imp(org, batch, "rows/6/flags/"), {"import_anyway": "1"}, **HTMX)
    assert "Duplicate: imported anyway" in anyway.content.decode()
    accepted = client.post(imp(org, batch, "rows/4/flags/"), {"accepted_warnings": "1"}, **HTMX)
    assert "warnings accepted" in accepted.content.decode()

    rows = {r.row_number: r for r in StagedRow.objects.filter(batch=batch)}
    assert rows[2].excluded and rows[6].import_anyway and rows[4].accepted_warnings
    assert "Commit 3 rows" in client.get(imp(org, batch)).content.decode()  # -row 2, +row 6

    client.post(imp(org, batch, "rows/2/flags/"), {"excluded": "0"})
    assert not StagedRow.objects.get(batch=batch, row_number=2).excluded
    nothing = client.post(imp(org, batch, "rows/2/flags/"), {"excluded": "maybe"}, **HTMX)
    assert nothing.status_code == 422 and b"Nothing to change." in nothing.content


def test_bulk_exclude_of_selected_rows(org, batch):
    client = org.client("member")

    response = client.post(imp(org, batch, "rows/bulk/"), {"rows": ["2", "4", "5"], "action": "exclude"}, follow=True)

    assert "Excluded 3 rows." in response.content.decode()
    assert sorted(StagedRow.objects.filter(batch=batch, excluded=True).values_list("row_number", flat=True)) == [2, 4, 5]
    client.post(imp(org, batch, "rows/bulk/"), {"rows": ["2", "4"], "action": "include"})
    assert list(StagedRow.objects.filter(batch=batch, excluded=True).values_list("row_number", flat=True)) == [5]


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "exclude"}, "Select at least one row."),
    ({"rows": ["2", "99"], "action": "exclude"}, "The import has no row 99"),
    ({"rows": ["2"], "action": "delete"}, "Select a valid choice."),
])
def test_a_bad_bulk_request_says_why_and_changes_nothing(org, batch, data, message):
    before = state(batch)
    response = org.client("member").post(imp(org, batch, "rows/bulk/"), data, follow=True)
    assert message in response.content.decode()
    assert state(batch) == before


# --- mapping ----------------------------------------------------------------------------------------------


STATEMENT = (b"Export of account 123\n\nBooking date;Text;Amount;Balance\n"
             b"01.03.2024;Coffee;-3,50;96,50\n02.03.2024;Salary;1200,00;1296,50\n")


def test_the_mapping_editor_shows_each_column_with_its_header_samples_and_field(org, account, media):
    batch = real_import(org, account, media, content=STATEMENT)
    response = org.client("member").get(imp(org, batch, "mapping/"))
    html = response.content.decode()

    columns = response.context["columns"]
    assert [c["letter"] for c in columns] == ["A", "B", "C", "D"]
    assert [c["header"] for c in columns] == ["Booking date", "Text", "Amount", "Balance"]
    assert columns[0]["samples"] == ["01.03.2024", "02.03.2024"]
    assert [c["field"].value() for c in columns] == ["date", "description", "amount", "balance"]
    assert '<option value="date" selected>' in html and 'name="header_row"' in html and 'value="3"' in html


def test_saving_a_mapping_validates_again_and_may_remember_it(org, account, media, enqueued,
                                                             django_capture_on_commit_callbacks):
    batch = real_import(org, account, media, content=STATEMENT)
    data = {"col_A": "date", "col_B": "counterparty", "col_C": "amount", "col_D": "", "header_row": "3",
            "remember": "on"}

    with django_capture_on_commit_callbacks(execute=True):
        response = org.client("member").post(imp(org, batch, "mapping/"), data)

    assert response.status_code == 302 and response["Location"] == imp(org, batch)
    batch.refresh_from_db()
    assert batch.mapping == {"date": 0, "counterparty": 1, "amount": 2} and batch.status == Status.QUEUED
    assert enqueued == [str(batch.pk)]
    assert MappingPreset.objects.get(tenant=org.tenant).mapping == {"date": 0, "counterparty": 1, "amount": 2}


@pytest.mark.parametrize(("data", "where", "message"), [
    ({"col_A": "date", "col_B": "date", "col_C": "amount"}, "col_B",
     "“Date (booking)” is chosen for columns A and B; pick one."),
    ({"col_B": "description", "col_C": "amount"}, None, "Date (booking): Required."),
    ({"col_A": "date", "col_B": "description"}, None, "Amount: Map an amount column, or debit and/or credit columns."),
    ({"col_A": "date", "col_C": "amount", "header_row": "0"}, "header_row", "Ensure this value is greater than"),
    ({"col_A": "nonsense", "col_C": "amount"}, "col_A", "Select a valid choice."),
])
def test_a_bad_mapping_is_refused_with_the_reason_next_to_it_and_nothing_changes(
    org, account, media, enqueued, data, where, message
):
    batch = real_import(org, account, media, content=STATEMENT)
    before = state(batch)

    response = org.client("member").post(imp(org, batch, "mapping/"), {"header_row": "3", **data})

    assert response.status_code == 422
    errors = response.context["form"].errors.get(where or "__all__", [])
    assert any(message in error for error in errors), response.context["form"].errors
    assert state(batch) == before and enqueued == []


def test_the_mapping_page_of_an_unreadable_file_says_so(org, account, media):
    batch = real_import(org, account, media, content=b"\x00\x01PK\x03\x04 not really a zip")
    assert batch.status == Status.FAILED
    response = org.client("member").get(imp(org, batch, "mapping/"))
    assert response.status_code == 200 and response.context["preview_error"]


# --- the error report ------------------------------------------------------------------------------------------


def test_the_csv_report_is_the_report_of_the_import(org, batch):
    response = org.client("viewer").get(imp(org, batch, "report.csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="March-errors.csv"'
    text = b"".join(response).decode()
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == ["row", "column", "code", "severity", "message", "value", "A", "B", "C"]
    assert [(line[0], line[2]) for line in lines[1:]] == [("3", "E_DATE_INVALID"), ("4", "W_OUTLIER_AMOUNT"),
                                                           ("6", "W_DUPLICATE_IN_FILE")]
    assert lines[2][7] == "'" + HYPERLINK  # the formula is escaped, as in the API's report


def test_the_xlsx_report_has_the_highlighted_rows(org, batch, tmp_path):
    response = org.client("viewer").get(imp(org, batch, "report.xlsx"))

    assert response["Content-Disposition"] == 'attachment; filename="March-errors.xlsx"'
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"".join(response))
    sheet = openpyxl.load_workbook(path)["Rows"]
    assert [sheet.cell(line, 1).value for line in range(2, sheet.max_row + 1)] == [3, 4, 6]
    assert "E_DATE_INVALID" in sheet.cell(2, 2).comment.text


def test_the_report_of_a_csv_import_names_its_columns(org, account, media):
    batch = real_import(org, account, media)
    text = b"".join(org.client("viewer").get(imp(org, batch, "report.csv"))).decode()
    assert text.lstrip("\ufeff").splitlines()[0] == "row,column,code,severity,message,value,A,B,C"
    assert report.safe_file_name(batch.file_name, suffix="csv") == "statement-errors.csv"


# --- escaping ------------------------------------------------------------------------------------------------------


def test_file_names_sheet_names_and_cells_render_as_text(org, account):
    name = '<img src=x onerror=alert(1)>.csv'
    batch = stage_rows(account, [parsed(2, day=None, description="<script>alert(2)</script>",
                                        issues=[issue(2, "A", "E_DATE_INVALID", message="<b>bad</b>")])],
                       file_name=name)
    ImportBatch.objects.filter(pk=batch.pk).update(sheet='<svg onload=alert(3)>',
                                                   sheets=[{"name": '<svg onload=alert(3)>', "rows": 2, "columns": 3}])
    client = org.client("member")

    pages = [org.url("imports/"), imp(org, batch), imp(org, batch, "issues/"), imp(org, batch, "mapping/"),
             imp(org, batch, "rows/2/edit/")]
    for url in pages:
        html = client.get(url).content.decode()
        assert "<img src=x" not in html and "<script>alert(2)" not in html and "<svg onload" not in html, url
        assert "<b>bad</b>" not in html, url
    issues_html = client.get(imp(org, batch, "issues/")).content.decode()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in issues_html and "&lt;svg onload=alert(3)&gt;" in issues_html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in client.get(org.url("imports/")).content.decode()


def test_import_pages_have_no_inline_script_or_style(org, batch):
    client = org.client("owner")
    for url in (org.url("imports/"), org.url("imports/new/"), imp(org, batch), imp(org, batch, "issues/"),
                imp(org, batch, "mapping/")):
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\sstyle=", html) and not re.search(r"\son[a-z]+=", html), url


def test_a_commit_whose_job_failed_is_back_in_review_with_the_reason(org, batch):
    ImportBatch.objects.filter(pk=batch.pk).update(error="The account 'Current' is archived; unarchive it")
    html = org.client("member").get(imp(org, batch)).content.decode()
    assert "The last commit did not go through;" in html and "The account &#x27;Current&#x27; is archived" in html
    assert "Commit 3 rows" in html
