"""The imports API: upload, review, commit, undo, report — roles, tenants, limits, query counts.

Staged rows are built straight in the staging table (tests/imports/test_report.stage_rows) where a
test is about the API rather than the reader. The background job is replaced by a recorder where a
test is about the API's answer rather than about reading the file.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import time
import uuid

import openpyxl
import pytest

from coffer.audit.models import AuditEntry
from coffer.imports import jobs, services
from coffer.imports.models import ImportBatch, MappingPreset, StagedRow
from coffer.ledger.models import Transaction
from tests import factories
from tests.imports.test_report import HYPERLINK, issue, parsed, stage_rows
from tests.querycount import count_queries





Status = ImportBatch.Status
ROLES = ("owner", "admin", "member", "viewer")
CSV_FILE = b"Date,Description,Amount\n2024-03-01,Coffee,-3.50\n2024-03-02,Salary,1200.00\n"


# --- arrange ------------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    """The job runner, replaced by a list of the batch ids it was asked to run (reading or committing)."""
    calls: list[str] = []
    monkeypatch.setattr(jobs, "enqueue", lambda batch_id: calls.append(str(batch_id)))
    monkeypatch.setattr(jobs, "enqueue_commit", lambda batch_id, actor_id=None: calls.append(f"commit {batch_id}"))
    return calls


@pytest.fixture
def commits_now(monkeypatch):
    """The commit job, run in the request's thread as soon as the request's transaction commits
    (the real job function; only the hand-off to a thread or a worker is skipped)."""
    def run(batch_id, actor_id=None):
        services.import_commit_run(batch_id=batch_id, actor_id=actor_id)

    monkeypatch.setattr(jobs, "enqueue_commit", run)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def people(alice, transactional_db):
    return {"owner": alice, "admin": factories.user(), "member": factories.user(), "viewer": factories.user()}


@pytest.fixture
def tenant(people):
    return factories.organization(people["owner"], slug="acme", admin=[people["admin"]],
                                  member=[people["member"]], viewer=[people["viewer"]])


@pytest.fixture
def account(tenant):
    return factories.account(tenant, name="Main", opening_balance="100.00")


ROWS = [
    parsed(2, day=1, amount="-3.50", description="Coffee"),
    parsed(3, day=None, description="Broken date", issues=[issue(3, "A", "E_DATE_INVALID", value="31/02")]),
    parsed(4, day=2, amount="-5000.00", description=HYPERLINK,
           issues=[issue(4, "C", "W_OUTLIER_AMOUNT", "warning", value="-5000.00")]),
    parsed(5, day=3, amount="-40.00", description="Groceries"),
    parsed(6, day=3, amount="-40.00", description="Groceries"),  # the same line twice: flagged
]


@pytest.fixture
def batch(account):
    return stage_rows(account, ROWS, signature="sig-" + "a" * 60, file_name="März \"2024\".csv")


@pytest.fixture
def stranger(bob):
    """Bob's own organization with an import of its own; Alice is not in it."""
    tenant = factories.organization(bob, slug="bobs")
    return stage_rows(factories.account(tenant, name="Bob's"), ROWS, signature="sig-" + "b" * 60)


def url(tenant, batch=None, tail: str = "") -> str:
    base = f"/api/v1/tenants/{tenant.slug}/imports"
    return base + (f"/{batch.pk}" if batch is not None else "") + tail


def state(batch: ImportBatch) -> tuple:
    """Everything a write endpoint could change."""
    fresh = ImportBatch.objects.get(pk=batch.pk)
    rows = list(StagedRow.objects.filter(batch=batch).order_by("row_number").values_list(
        "row_number", "raw", "excluded", "import_anyway", "accepted_warnings", "edited", "has_error"))
    return (
        (fresh.status, fresh.mapping, fresh.header_row, fresh.sheet, fresh.mapping_source, fresh.rows_committed,
         fresh.updated_at),
        rows,
        Transaction.objects.filter(tenant=batch.tenant).count(),
        MappingPreset.objects.filter(tenant=batch.tenant).count(),
        AuditEntry.objects.filter(tenant=batch.tenant).count(),
    )


def upload(client, tenant, person, *, content: bytes = CSV_FILE, name: str = "statement.csv", **fields):
    data = {"account_id": str(fields.pop("account_id")), **fields} if "account_id" in fields else fields
    return client.post(url(tenant), files={"file": (name, content, "text/csv")}, data=data,
                       headers=factories.auth_headers(person))


def nothing_stored(media) -> bool:
    """No import recorded and no file left under MEDIA_ROOT."""
    files = [path for path in media.rglob("*") if path.is_file()] if media.exists() else []
    return not ImportBatch.objects.exists() and files == []


# --- write endpoints: every role ---------------------------------------------------

MAPPING = {"mapping": {"date": "A", "description": "B", "amount": "C"}, "header_row": 1}

# name -> (arrange status, method, tail, json body, status when allowed)
WRITES = {
    "commit": (Status.REVIEW, "post", "/commit", None, 202),
    "undo": (Status.COMMITTED, "post", "/undo", None, 200),
    "mapping": (Status.REVIEW, "put", "/mapping", MAPPING, 202),
    "row": (Status.REVIEW, "patch", "/rows/2", {"excluded": True}, 200),
    "bulk": (Status.REVIEW, "post", "/rows/bulk", {"rows": [2, 5], "excluded": True}, 200),
    "preset": (Status.REVIEW, "post", "/preset", None, 201),
    "retry": (Status.FAILED, "post", "/retry", None, 202),
}


def _arrange(batch, status, person):
    if status == Status.COMMITTED:
        services.import_commit(tenant=batch.tenant, actor=person, import_id=batch.pk)
    elif status != Status.REVIEW:
        ImportBatch.objects.filter(pk=batch.pk).update(status=status)
    return batch


def _call(client, person, method, path, body):
    kwargs = {"headers": factories.auth_headers(person)}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(path, **kwargs)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_members_and_above_may_write_and_viewers_are_refused_with_nothing_changed(
    client_api, people, tenant, batch, enqueued, role, name
):
    arranged, method, tail, body, allowed = WRITES[name]
    _arrange(batch, arranged, people["owner"])
    before = state(batch)
    response = _call(client_api, people[role], method, url(tenant, batch, tail), body)
    if role == "viewer":
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "viewer" in response.json()["detail"]
        assert state(batch) == before
        assert enqueued == []
    else:
        assert response.status_code == allowed, response.text
        assert state(batch) != before


@pytest.mark.parametrize("role", ROLES)
def test_upload_is_for_members_and_above(client_api, people, tenant, account, enqueued, media, role):
    response = upload(client_api, tenant, people[role], account_id=account.pk)
    if role == "viewer":
        assert response.status_code == 403
        assert nothing_stored(media) and enqueued == []
    else:
        assert response.status_code == 202, response.text
        assert len(enqueued) == 1


@pytest.mark.parametrize("tail", ["", "/issues", "/mapping", "/rows", "/report.csv", "/report.xlsx"])
def test_a_viewer_reads_everything(client_api, people, tenant, batch, tail):
    response = client_api.get(url(tenant, batch, tail), headers=factories.auth_headers(people["viewer"]))
    assert response.status_code == 200, response.text


# --- other tenants -------------------------------------------------------------------

EVERY_ENDPOINT = [
    ("get", "", None), ("get", "/issues", None), ("get", "/mapping", None), ("get", "/rows", None),
    ("get", "/report.csv", None), ("get", "/report.xlsx", None),
    *[(method, tail, body) for _, method, tail, body, _ in WRITES.values()],
]


@pytest.mark.parametrize(("method", "tail", "body"), EVERY_ENDPOINT)
def test_another_tenants_import_id_is_not_found_and_unchanged(
    client_api, alice, tenant, batch, stranger, enqueued, method, tail, body
):
    before = state(stranger)
    response = _call(client_api, alice, method, url(tenant, stranger, tail), body)
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "No such import"
    assert "Bob" not in response.text and str(stranger.account_id) not in response.text
    assert state(stranger) == before and enqueued == []


@pytest.mark.parametrize(("method", "tail", "body"), EVERY_ENDPOINT)
def test_a_tenant_you_are_not_in_is_not_found(client_api, alice, stranger, enqueued, method, tail, body):
    before = state(stranger)
    response = _call(client_api, alice, method, url(stranger.tenant, stranger, tail), body)
    assert response.status_code == 404, response.text
    assert state(stranger) == before and enqueued == []


def test_upload_into_a_tenant_you_are_not_in_is_not_found_and_stores_nothing(client_api, alice, bob, enqueued, media):
    tenant = factories.organization(bob, slug="bobs")
    response = upload(client_api, tenant, alice, account_id=factories.account(tenant).pk)
    assert response.status_code == 404
    assert nothing_stored(media) and enqueued == []


def test_upload_into_another_tenants_account_is_refused(client_api, alice, tenant, enqueued, media, bob):
    bobs = factories.account(factories.organization(bob, slug="bobs"))
    response = upload(client_api, tenant, alice, account_id=bobs.pk)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "account_id"
    assert nothing_stored(media) and enqueued == []


def test_the_import_list_shows_only_this_tenants_imports(client_api, alice, tenant, batch, stranger):
    response = client_api.get(url(tenant), headers=factories.auth_headers(alice))
    assert [item["id"] for item in response.json()["items"]] == [str(batch.pk)]


# --- upload ------------------------------------------------------------------------------


def test_upload_answers_202_with_the_import_and_its_location_and_starts_the_job(
    client_api, alice, tenant, account, enqueued, media
):
    response = upload(client_api, tenant, alice, account_id=account.pk, name="../Bank März.csv", sheet="")
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/tenants/acme/imports/{body['id']}"
    assert body["status"] == "queued" and body["account_id"] == str(account.pk)
    assert body["file_name"] == "Bank März.csv"
    assert body["size"] == len(CSV_FILE) and body["sha256"] == hashlib.sha256(CSV_FILE).hexdigest()
    assert body["progress"] == {"rows_read": 0, "rows_validated": 0, "rows_written": 0}
    assert enqueued == [body["id"]]
    stored = ImportBatch.objects.get(pk=body["id"])
    assert (media / stored.file_path).read_bytes() == CSV_FILE
    assert AuditEntry.objects.filter(tenant=tenant, action="import.create", object_id=body["id"]).count() == 1
    detail = client_api.get(response.headers["location"], headers=factories.auth_headers(alice))
    assert detail.status_code == 200 and detail.json()["id"] == body["id"]


def test_upload_streams_a_file_larger_than_the_json_body_limit(client_api, alice, tenant, account, enqueued, media,
                                                                settings):
    content = b"Date,Description,Amount\n" + b"2024-03-01,Coffee,-3.50\n" * 100_000  # 2.4 MB > 1 MB JSON limit
    assert len(content) > settings.API_MAX_BODY_BYTES
    response = upload(client_api, tenant, alice, account_id=account.pk, content=content)
    assert response.status_code == 202, response.text
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()


def test_only_the_upload_route_takes_bodies_over_the_json_limit(client_api, alice, tenant, batch, enqueued,
                                                                settings):
    body = {"mapping": {"date": "A", "amount": "C"}, "sheet": "x" * (2 * 1024 * 1024)}
    response = client_api.put(url(tenant, batch, "/mapping"), json=body, headers=factories.auth_headers(alice))
    assert response.status_code == 413
    assert f"{settings.API_MAX_BODY_BYTES} bytes" in response.json()["detail"]


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_is_stored(
    client_api, alice, tenant, account, enqueued, media, settings
):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    response = upload(client_api, tenant, alice, account_id=account.pk, content=b"x" * 1001)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "1000 bytes" in response.json()["detail"]
    assert nothing_stored(media) and enqueued == []
    assert AuditEntry.objects.filter(tenant=tenant, action="import.create").count() == 0


def test_a_file_at_the_limit_is_accepted(client_api, alice, tenant, account, enqueued, media, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    response = upload(client_api, tenant, alice, account_id=account.pk, content=b"x" * 1000)
    assert response.status_code == 202


def test_a_body_far_over_the_upload_limit_is_refused_by_its_declared_length(
    client_api, alice, tenant, account, enqueued, media, settings
):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    response = upload(client_api, tenant, alice, account_id=account.pk, content=b"x" * (200 * 1024))
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]
    assert nothing_stored(media) and enqueued == []


def test_an_oversized_upload_is_refused_before_the_whole_body_is_read(
    alice, tenant, account, enqueued, media, settings
):
    """Drive the ASGI app directly, sending the body in 1 kB messages without a Content-Length."""
    from coffer.asgi import application

    settings.IMPORT_MAX_FILE_BYTES = 10_000
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"account_id\"\r\n\r\n{account.pk}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n").encode()
    messages = [head] + [b"y" * 1024] * 100 + [f"\r\n--{boundary}--\r\n".encode()]
    pulled, sent = 0, []

    async def receive():
        nonlocal pulled
        if pulled >= len(messages):
            await asyncio.sleep(3600)
        pulled += 1
        return {"type": "http.request", "body": messages[pulled - 1], "more_body": pulled < len(messages)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": f"/api/v1/tenants/{tenant.slug}/imports", "raw_path": b"", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                    *[(k.lower().encode(), v.encode()) for k, v in factories.auth_headers(alice).items()]],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }
    asyncio.run(asyncio.wait_for(application(scope, receive, send), 30))
    assert sent[0]["status"] == 413
    assert pulled < len(messages) // 2  # refused at ~10 kB of a ~100 kB body
    assert nothing_stored(media) and enqueued == []


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({}, "account_id", "account_id is required"),
    ({"account_id": "not-a-uuid"}, "account_id", "No such account"),
    ({"account_id": uuid.uuid4()}, "account_id", "No such account"),
    ({"account_id": "ACCOUNT", "content": b""}, "file", "The file is empty"),
    ({"account_id": "ACCOUNT", "colour": "red"}, "colour", "Unknown form field 'colour'"),
])
def test_bad_uploads_are_refused_with_a_clear_message_and_store_nothing(
    client_api, alice, tenant, account, enqueued, media, kwargs, field, message
):
    if kwargs.get("account_id") == "ACCOUNT":
        kwargs["account_id"] = account.pk
    response = upload(client_api, tenant, alice, **kwargs)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == message
    assert field in [error["field"] for error in response.json()["errors"]]
    assert nothing_stored(media) and enqueued == []


def test_an_upload_that_is_not_multipart_is_refused(client_api, alice, tenant, account, enqueued, media):
    response = client_api.post(url(tenant), json={"account_id": str(account.pk)}, headers=factories.auth_headers(alice))
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["detail"]
    assert nothing_stored(media)


def test_an_upload_without_a_file_part_is_refused(client_api, alice, tenant, account, enqueued, media):
    response = client_api.post(url(tenant), data={"account_id": str(account.pk)},
                               files={"other": ("x.csv", b"1", "text/csv")}, headers=factories.auth_headers(alice))
    assert response.status_code == 422
    assert "'file'" in response.json()["detail"]
    assert nothing_stored(media)


def test_two_files_in_one_upload_are_refused(client_api, alice, tenant, account, enqueued, media):
    response = client_api.post(
        url(tenant), data={"account_id": str(account.pk)},
        files=[("file", ("a.csv", b"1", "text/csv")), ("file", ("b.csv", b"2", "text/csv"))],
        headers=factories.auth_headers(alice),
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "Send one file per upload"
    assert nothing_stored(media)


def _stored_files(media) -> list:
    return sorted(path for path in media.rglob("*") if path.is_file()) if media.exists() else []


def test_the_same_upload_with_the_same_idempotency_key_answers_with_the_first_import(
    client_api, alice, tenant, account, enqueued, media
):
    key = {"Idempotency-Key": "upload-1"}
    first = client_api.post(url(tenant), files={"file": ("s.csv", CSV_FILE, "text/csv")},
                            data={"account_id": str(account.pk)}, headers={**factories.auth_headers(alice), **key})
    assert first.status_code == 202, first.text
    ImportBatch.objects.filter(pk=first.json()["id"]).update(status=Status.REVIEW)  # the job ran meanwhile
    again = client_api.post(url(tenant), files={"file": ("s.csv", CSV_FILE, "text/csv")},
                            data={"account_id": str(account.pk)}, headers={**factories.auth_headers(alice), **key})
    assert again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "review"  # as it stands now
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert ImportBatch.objects.count() == 1 and enqueued == [first.json()["id"]]
    assert len(_stored_files(media)) == 1
    assert AuditEntry.objects.filter(tenant=tenant, action="import.create").count() == 1


@pytest.mark.parametrize("change", ["file", "field", "name"])
def test_the_same_idempotency_key_with_another_upload_is_a_conflict(
    client_api, alice, tenant, account, enqueued, media, change
):
    headers = {**factories.auth_headers(alice), "Idempotency-Key": "upload-2"}
    first = client_api.post(url(tenant), files={"file": ("s.csv", CSV_FILE, "text/csv")},
                            data={"account_id": str(account.pk)}, headers=headers)
    assert first.status_code == 202
    content = CSV_FILE + b"2024-03-03,Tea,-2.00\n" if change == "file" else CSV_FILE
    fields = {"account_id": str(account.pk), **({"sheet": "Other"} if change == "field" else {})}
    name = "other.csv" if change == "name" else "s.csv"
    other = client_api.post(url(tenant), files={"file": (name, content, "text/csv")}, data=fields, headers=headers)
    assert other.status_code == 409, other.text
    assert other.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in other.json()["detail"]
    assert ImportBatch.objects.count() == 1 and len(_stored_files(media)) == 1 and len(enqueued) == 1


def test_a_refused_upload_can_be_sent_again_with_the_same_key_once_fixed(
    client_api, alice, tenant, account, enqueued, media
):
    headers = {**factories.auth_headers(alice), "Idempotency-Key": "upload-3"}
    refused = client_api.post(url(tenant), files={"file": ("s.csv", CSV_FILE, "text/csv")},
                              data={"account_id": str(uuid.uuid4())}, headers=headers)
    assert refused.status_code == 422 and nothing_stored(media)
    fixed = client_api.post(url(tenant), files={"file": ("s.csv", CSV_FILE, "text/csv")},
                            data={"account_id": str(account.pk)}, headers=headers)
    assert fixed.status_code == 202, fixed.text
    assert "idempotent-replayed" not in fixed.headers


def test_uploads_with_different_keys_or_without_a_key_are_separate_imports(
    client_api, alice, tenant, account, enqueued, media
):
    for key in ("a", "b", None, None):
        headers = {**factories.auth_headers(alice), **({"Idempotency-Key": key} if key else {})}
        response = client_api.post(url(tenant), files={"file": ("s.csv", CSV_FILE, "text/csv")},
                                   data={"account_id": str(account.pk)}, headers=headers)
        assert response.status_code == 202
    assert ImportBatch.objects.count() == 4 and len(enqueued) == 4


def test_an_invalid_idempotency_key_is_refused_and_stores_nothing(client_api, alice, tenant, account, enqueued, media):
    headers = {**factories.auth_headers(alice), "Idempotency-Key": "k" * 300}
    response = client_api.post(url(tenant), files={"file": ("s.csv", CSV_FILE, "text/csv")},
                               data={"account_id": str(account.pk)}, headers=headers)
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["detail"]
    assert nothing_stored(media) and enqueued == []


def test_an_upload_that_lost_an_idempotency_race_leaves_no_file(alice, tenant, account, enqueued, media):
    """Two requests with one key: the second's import is rolled back; its stored file must go too."""
    from coffer.imports import services as import_services

    first = import_services.import_create(tenant=tenant, actor=alice, account_id=account.pk, file_name="s.csv",
                                          content=io.BytesIO(CSV_FILE), enqueue=False)
    lost = import_services.import_create(tenant=tenant, actor=alice, account_id=account.pk, file_name="s.csv",
                                         content=io.BytesIO(CSV_FILE), enqueue=False)
    ImportBatch.objects.filter(pk=lost.pk).delete()  # its transaction rolled back
    assert len(_stored_files(media)) == 2
    import_services.import_discard_upload(tenant=tenant, import_id=lost.pk)
    import_services.import_discard_upload(tenant=tenant, import_id=first.pk)  # a recorded import keeps its file
    assert [path.parent.name for path in _stored_files(media)] == [str(first.pk)]


def test_an_upload_into_an_archived_account_is_a_conflict(client_api, alice, tenant, account, enqueued, media):
    from django.utils import timezone

    type(account).objects.filter(pk=account.pk).update(archived_at=timezone.now())
    response = upload(client_api, tenant, alice, account_id=account.pk)
    assert response.status_code == 409 and "archived" in response.json()["detail"]
    assert nothing_stored(media)


# --- reading -----------------------------------------------------------------------------


def test_the_detail_shows_status_progress_summary_and_mapping(client_api, alice, tenant, batch):
    body = client_api.get(url(tenant, batch), headers=factories.auth_headers(alice)).json()
    assert body["status"] == "review"
    assert body["mapping"] == {"date": "A", "description": "B", "amount": "C"}
    assert body["mapping_confidence"] == 0.9 and body["header_row"] == 1 and body["sheet"] == "Sheet1"
    assert body["summary"] == {"rows_total": 5, "rows_valid": 4, "rows_with_errors": 1, "rows_duplicate": 1,
                               "rows_committed": 0}
    assert body["sheets"] == [{"name": "Sheet1", "rows": 6, "columns": 3}]
    assert body["error"] is None


def test_an_unknown_import_id_is_not_found(client_api, alice, tenant):
    response = client_api.get(url(tenant) + f"/{uuid.uuid4()}", headers=factories.auth_headers(alice))
    assert response.status_code == 404
    assert client_api.get(url(tenant) + "/nope", headers=factories.auth_headers(alice)).status_code == 422


def test_the_import_list_filters_by_status_and_account(client_api, alice, tenant, account, batch):
    other = stage_rows(factories.account(tenant, name="Savings"), ROWS[:1], status=Status.FAILED)
    headers = factories.auth_headers(alice)

    def ids(**query):
        return [item["id"] for item in client_api.get(url(tenant), params=query, headers=headers).json()["items"]]

    assert ids() == [str(other.pk), str(batch.pk)]
    assert ids(status="failed") == [str(other.pk)]
    assert ids(account=str(account.pk)) == [str(batch.pk)]
    assert client_api.get(url(tenant), params={"status": "lost"}, headers=headers).status_code == 422


def test_the_import_list_pages_with_a_cursor(client_api, alice, tenant, account):
    made = [stage_rows(account, []) for _ in range(5)]
    headers = factories.auth_headers(alice)
    first = client_api.get(url(tenant), params={"limit": 3}, headers=headers).json()
    second = client_api.get(url(tenant), params={"limit": 3, "cursor": first["next"]}, headers=headers).json()
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert seen == [str(b.pk) for b in sorted(made, key=lambda b: (b.created_at, b.pk), reverse=True)]
    assert second["next"] is None
    assert client_api.get(url(tenant), params={"cursor": "garbage"}, headers=headers).status_code == 422


def test_issues_are_listed_with_row_column_code_severity_message_and_value(client_api, alice, tenant, batch):
    body = client_api.get(url(tenant, batch, "/issues"), headers=factories.auth_headers(alice)).json()
    assert [(i["row"], i["column"], i["code"], i["severity"]) for i in body["items"]] == [
        (3, "A", "E_DATE_INVALID", "error"),
        (4, "C", "W_OUTLIER_AMOUNT", "warning"),
        (6, None, "W_DUPLICATE_IN_FILE", "warning"),
    ]
    assert body["items"][0]["value"] == "31/02" and body["next"] is None


@pytest.mark.parametrize(("params", "codes"), [
    ({"severity": "error"}, ["E_DATE_INVALID"]),
    ({"severity": "warning"}, ["W_OUTLIER_AMOUNT", "W_DUPLICATE_IN_FILE"]),
    ({"code": "W_DUPLICATE_IN_FILE"}, ["W_DUPLICATE_IN_FILE"]),
    ({"code": "e_date_invalid"}, ["E_DATE_INVALID"]),
    ({"code": "E_CURRENCY_MISMATCH"}, []),
])
def test_issues_filter_by_code_and_severity(client_api, alice, tenant, batch, params, codes):
    body = client_api.get(url(tenant, batch, "/issues"), params=params, headers=factories.auth_headers(alice)).json()
    assert [i["code"] for i in body["items"]] == codes


@pytest.mark.parametrize("params", [{"severity": "fatal"}, {"code": "E DATE"}, {"limit": 0}, {"limit": 101},
                                    {"cursor": "x"}])
def test_bad_issue_queries_are_422(client_api, alice, tenant, batch, params):
    response = client_api.get(url(tenant, batch, "/issues"), params=params, headers=factories.auth_headers(alice))
    assert response.status_code == 422


def test_issues_page_through_every_row(client_api, alice, tenant, batch):
    headers, seen, cursor = factories.auth_headers(alice), [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        body = client_api.get(url(tenant, batch, "/issues"), params=params, headers=headers).json()
        seen += [i["row"] for i in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [3, 4, 6]


def test_rows_show_typed_values_raw_cells_issues_and_flags(client_api, alice, tenant, batch):
    body = client_api.get(url(tenant, batch, "/rows"), headers=factories.auth_headers(alice)).json()
    rows = {row["row_number"]: row for row in body["items"]}
    assert sorted(rows) == [2, 3, 4, 5, 6]
    assert rows[2]["values"]["amount"] == "-3.50" and rows[2]["values"]["booked_on"] == "2024-03-01"
    assert rows[2]["cells"] == {"A": "2024-03-01", "B": "Coffee", "C": "-3.50"}
    assert rows[2]["flags"]["will_import"] is True and rows[2]["issues"] == []
    assert rows[3]["issues"][0]["code"] == "E_DATE_INVALID" and rows[3]["flags"]["has_error"] is True
    assert rows[3]["flags"]["will_import"] is False
    assert rows[6]["flags"]["is_duplicate"] is True and rows[6]["flags"]["duplicate_of_row"] == 5
    assert rows[6]["flags"]["will_import"] is False


@pytest.mark.parametrize(("only", "numbers"), [
    ("errors", [3]), ("warnings", [4]), ("duplicates", [6]), ("excluded", []), ("valid", [2, 4, 5, 6]),
])
def test_rows_filter_by_kind(client_api, alice, tenant, batch, only, numbers):
    body = client_api.get(url(tenant, batch, "/rows"), params={"only": only}, headers=factories.auth_headers(alice))
    assert [row["row_number"] for row in body.json()["items"]] == numbers
    bad = client_api.get(url(tenant, batch, "/rows"), params={"only": "weird"}, headers=factories.auth_headers(alice))
    assert bad.status_code == 422


def _many_imports(account, n):
    ImportBatch.objects.bulk_create([
        ImportBatch(tenant=account.tenant, account=account, file_name=f"f{i}.csv", file_path="x", sha256="0" * 64)
        for i in range(n)
    ])


def _queries(client, path, limit, person):
    headers = factories.auth_headers(person)
    with count_queries() as queries:
        response = client.get(path, params={"limit": limit}, headers=headers)
    assert response.status_code == 200, response.text
    return len(queries), len(response.json()["items"])


def test_the_import_list_runs_the_same_queries_for_5_or_100_items(client_api, alice, tenant, account):
    _many_imports(account, 105)
    _queries(client_api, url(tenant), 5, alice)  # warm the cached membership look-up: both counts see it cached
    small, shown_small = _queries(client_api, url(tenant), 5, alice)
    large, shown_large = _queries(client_api, url(tenant), 100, alice)
    assert (shown_small, shown_large) == (5, 100)
    assert small == large


@pytest.mark.parametrize("tail", ["/issues", "/rows"])
def test_issue_and_row_lists_run_the_same_queries_for_5_or_100_rows(client_api, alice, tenant, account, tail):
    rows = [parsed(n, day=None, description=f"r{n}", issues=[issue(n, "A", "E_DATE_INVALID")]) for n in range(2, 110)]
    big = stage_rows(account, rows)
    _queries(client_api, url(tenant, big, tail), 5, alice)  # warm the cached membership look-up: both counts see it cached
    small, shown_small = _queries(client_api, url(tenant, big, tail), 5, alice)
    large, shown_large = _queries(client_api, url(tenant, big, tail), 100, alice)
    assert (shown_small, shown_large) == (5, 100)
    assert small == large


# --- review ---------------------------------------------------------------------------


def test_the_mapping_shows_fields_as_column_letters(client_api, alice, tenant, batch):
    body = client_api.get(url(tenant, batch, "/mapping"), headers=factories.auth_headers(alice)).json()
    assert body["mapping"] == {"date": "A", "description": "B", "amount": "C"}
    assert body["confidence"] == 0.9 and body["source"] == "detected" and body["header_row"] == 1


def test_replacing_the_mapping_reruns_validation_in_the_background(client_api, alice, tenant, batch, enqueued):
    new = {"mapping": {"date": "A", "description": "B", "debit": "C"}, "header_row": 2, "sheet": "Sheet1"}
    response = client_api.put(url(tenant, batch, "/mapping"), json=new, headers=factories.auth_headers(alice))
    assert response.status_code == 202, response.text
    assert response.json()["mapping"] == {"date": "A", "description": "B", "debit": "C"}
    assert response.json()["source"] == "user" and response.json()["header_row"] == 2
    assert response.headers["location"] == url(tenant, batch)
    fresh = ImportBatch.objects.get(pk=batch.pk)
    assert fresh.status == Status.QUEUED and fresh.mapping == {"date": 0, "description": 1, "debit": 2}
    assert enqueued == [str(batch.pk)]


@pytest.mark.parametrize(("body", "field"), [
    ({"mapping": {"description": "B", "amount": "C"}}, "date"),
    ({"mapping": {"date": "A", "description": "B"}}, "amount"),
    ({"mapping": {"date": "A", "amount": "A"}}, "mapping"),
    ({"mapping": {"date": "A", "amount": "C", "colour": "D"}}, "colour"),
    ({"mapping": {"date": "A1", "amount": "C"}}, "date"),
    ({"mapping": {"date": "A", "amount": "C"}, "header_row": 0}, "header_row"),
    ({"mapping": {"date": "A", "amount": "C"}, "extra": 1}, "extra"),
    ({"mapping": {"date": 1.5, "amount": "C"}}, "mapping.date"),
])
def test_a_bad_mapping_is_422_and_changes_nothing(client_api, alice, tenant, batch, enqueued, body, field):
    before = state(batch)
    response = client_api.put(url(tenant, batch, "/mapping"), json=body, headers=factories.auth_headers(alice))
    assert response.status_code == 422, response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert state(batch) == before and enqueued == []


def test_a_mapping_cannot_change_while_the_file_is_being_read(client_api, alice, tenant, account, enqueued):
    reading = stage_rows(account, ROWS, status=Status.READING)
    response = client_api.put(url(tenant, reading, "/mapping"), json=MAPPING, headers=factories.auth_headers(alice))
    assert response.status_code == 409 and "reading" in response.json()["detail"]


def test_excluding_a_row_keeps_it_out_of_the_commit(client_api, alice, tenant, batch, commits_now):
    headers = factories.auth_headers(alice)
    response = client_api.patch(url(tenant, batch, "/rows/2"), json={"excluded": True}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["flags"]["excluded"] is True and response.json()["flags"]["will_import"] is False
    assert client_api.post(url(tenant, batch, "/commit"), headers=headers).status_code == 202
    committed = client_api.get(url(tenant, batch), headers=headers).json()
    assert committed["summary"]["rows_committed"] == 2  # rows 4 and 5; 2 excluded, 3 broken, 6 a duplicate
    assert not Transaction.objects.filter(tenant=tenant, description="Coffee").exists()


def test_a_duplicate_imported_anyway_is_committed(client_api, alice, tenant, batch, commits_now):
    headers = factories.auth_headers(alice)
    response = client_api.patch(url(tenant, batch, "/rows/6"), json={"import_anyway": True}, headers=headers)
    assert response.json()["flags"]["will_import"] is True
    client_api.post(url(tenant, batch, "/commit"), headers=headers)
    assert Transaction.objects.filter(tenant=tenant, description="Groceries").count() == 2


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/rows/99", {"excluded": True}, 404),
    ("/rows/0", {"excluded": True}, 422),
    ("/rows/2", {}, 422),
    ("/rows/2", {"excluded": "yes"}, 422),
    ("/rows/2", {"hidden": True}, 422),
])
def test_bad_row_edits_change_nothing(client_api, alice, tenant, batch, path, body, status):
    before = state(batch)
    response = client_api.patch(url(tenant, batch, path), json=body, headers=factories.auth_headers(alice))
    assert response.status_code == status, response.text
    assert state(batch) == before


def test_editing_a_cell_parses_the_row_again(client_api, alice, tenant, batch):
    response = client_api.patch(url(tenant, batch, "/rows/3"), json={"cells": {"A": "2024-03-05"}},
                                headers=factories.auth_headers(alice))
    assert response.status_code == 200, response.text
    row = response.json()
    assert row["cells"]["A"] == "2024-03-05" and row["values"]["booked_on"] == "2024-03-05"
    assert row["flags"]["edited"] is True and row["flags"]["has_error"] is False


def test_editing_a_repeated_line_renumbers_duplicates_both_ways(client_api, alice, tenant, batch):
    headers = factories.auth_headers(alice)

    def flags(number):
        row = StagedRow.objects.get(batch=batch, row_number=number)
        return row.is_duplicate, row.duplicate_of_row, row.occurrence, row.fingerprint.rsplit("-", 1)[1]

    assert flags(5) == (False, None, 1, "1") and flags(6) == (True, 5, 2, "2")
    changed = client_api.patch(url(tenant, batch, "/rows/6"), json={"cells": {"C": "-41.00"}}, headers=headers)
    assert changed.status_code == 200 and changed.json()["flags"]["is_duplicate"] is False
    assert flags(5) == (False, None, 1, "1") and flags(6) == (False, None, 1, "1")
    back = client_api.patch(url(tenant, batch, "/rows/6"), json={"cells": {"C": "-40.00"}}, headers=headers)
    assert back.json()["flags"]["duplicate_of_row"] == 5
    assert flags(5) == (False, None, 1, "1") and flags(6) == (True, 5, 2, "2")


def test_bulk_flags_change_every_listed_row(client_api, alice, tenant, batch):
    headers = factories.auth_headers(alice)
    response = client_api.post(url(tenant, batch, "/rows/bulk"), json={"rows": [2, 4], "excluded": True},
                               headers=headers)
    assert response.status_code == 200 and response.json() == {"updated": 2}
    assert sorted(StagedRow.objects.filter(batch=batch, excluded=True).values_list("row_number", flat=True)) == [2, 4]
    client_api.post(url(tenant, batch, "/rows/bulk"), json={"rows": [4], "excluded": False}, headers=headers)
    assert list(StagedRow.objects.filter(batch=batch, excluded=True).values_list("row_number", flat=True)) == [2]


@pytest.mark.parametrize(("body", "message"), [
    ({"rows": list(range(1, 1002)), "excluded": True}, "at most 1000"),
    ({"rows": [], "excluded": True}, "at least 1"),
    ({"rows": [2, 99], "excluded": True}, "The import has no row 99"),
    ({"rows": [2]}, "Nothing to change"),
    ({"rows": ["2"], "excluded": True}, "valid integer"),
])
def test_bad_bulk_edits_change_nothing(client_api, alice, tenant, batch, body, message):
    before = state(batch)
    response = client_api.post(url(tenant, batch, "/rows/bulk"), json=body, headers=factories.auth_headers(alice))
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert state(batch) == before


# --- commit, undo, preset ------------------------------------------------------------


def test_commit_then_undo_through_the_api(client_api, alice, tenant, account, batch, commits_now):
    headers = factories.auth_headers(alice)
    started = client_api.post(url(tenant, batch, "/commit"), headers=headers)
    assert started.status_code == 202 and started.json()["status"] == "committing"
    committed = client_api.get(started.headers["location"], headers=headers)
    assert committed.json()["status"] == "committed" and committed.json()["summary"]["rows_committed"] == 3
    assert Transaction.objects.filter(account=account).count() == 3
    again = client_api.post(url(tenant, batch, "/commit"), headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "committed"
    assert Transaction.objects.filter(account=account).count() == 3
    undone = client_api.post(url(tenant, batch, "/undo"), headers=headers)
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert Transaction.objects.filter(account=account).count() == 0


@pytest.mark.parametrize("status", [Status.QUEUED, Status.READING, Status.VALIDATING, Status.FAILED, Status.UNDONE])
def test_committing_an_import_not_in_review_is_a_conflict(client_api, alice, tenant, account, status):
    waiting = stage_rows(account, ROWS, status=status)
    before = state(waiting)
    response = client_api.post(url(tenant, waiting, "/commit"), headers=factories.auth_headers(alice))
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"The import is {Status(status).label.lower()}")
    assert state(waiting) == before


def test_commit_answers_202_at_once_with_the_import_and_its_url_and_starts_one_job(
    client_api, alice, tenant, account, batch, enqueued
):
    headers = factories.auth_headers(alice)
    response = client_api.post(url(tenant, batch, "/commit"), headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/v1/tenants/acme/imports/{batch.pk}"
    assert response.json()["status"] == "committing" and response.json()["summary"]["rows_committed"] == 0
    assert enqueued == [f"commit {batch.pk}"]
    assert not Transaction.objects.filter(account=account).exists()  # the job has not run yet
    # Asking again while it commits starts no second job, and the rows stay locked for review.
    again = client_api.post(url(tenant, batch, "/commit"), headers=headers)
    assert again.status_code == 202 and again.json()["status"] == "committing"
    assert enqueued == [f"commit {batch.pk}"]
    edit = client_api.patch(url(tenant, batch, "/rows/2"), json={"excluded": True}, headers=headers)
    assert edit.status_code == 409 and "committing" in edit.json()["detail"]
    assert AuditEntry.objects.filter(tenant=tenant, action="import.commit_start").count() == 1


def test_commit_runs_in_the_embedded_background_runner(client_api, alice, tenant, account, batch, settings):
    settings.CELERY_BROKER_URL = ""
    headers = factories.auth_headers(alice)
    response = client_api.post(url(tenant, batch, "/commit"), headers=headers)
    assert response.status_code == 202, response.text
    deadline, body = time.monotonic() + 30, response.json()
    while body["status"] == "committing" and time.monotonic() < deadline:
        time.sleep(0.05)
        body = client_api.get(response.headers["location"], headers=headers).json()
    assert body["status"] == "committed" and body["summary"]["rows_committed"] == 3, body
    assert body["committed_at"] is not None and body["error"] is None
    assert Transaction.objects.filter(account=account).count() == 3
    assert AuditEntry.objects.get(tenant=tenant, action="import.commit").actor_id == alice.pk


def test_a_commit_that_fails_in_the_background_returns_to_review_with_the_reason(
    client_api, alice, tenant, account, batch, monkeypatch
):
    from django.utils import timezone

    def archive_then_run(batch_id, actor_id=None):
        type(account).objects.filter(pk=account.pk).update(archived_at=timezone.now())  # archived meanwhile
        services.import_commit_run(batch_id=batch_id, actor_id=actor_id)

    monkeypatch.setattr(jobs, "enqueue_commit", archive_then_run)
    headers = factories.auth_headers(alice)
    assert client_api.post(url(tenant, batch, "/commit"), headers=headers).status_code == 202
    body = client_api.get(url(tenant, batch), headers=headers).json()
    assert body["status"] == "review" and "archived" in body["error"]
    assert body["summary"]["rows_committed"] == 0 and not Transaction.objects.filter(account=account).exists()


@pytest.mark.parametrize(("status", "job"), [(Status.FAILED, "read"), (Status.VALIDATING, "read"),
                                            (Status.COMMITTING, "commit")])
def test_retry_runs_the_job_again(client_api, alice, tenant, account, enqueued, status, job):
    stuck = stage_rows(account, ROWS, status=status)
    response = client_api.post(url(tenant, stuck, "/retry"), headers=factories.auth_headers(alice))
    assert response.status_code == 202, response.text
    assert response.headers["location"] == url(tenant, stuck)
    assert enqueued == [str(stuck.pk) if job == "read" else f"commit {stuck.pk}"]
    assert response.json()["status"] == ("queued" if job == "read" else "committing")


@pytest.mark.parametrize("status", [Status.REVIEW, Status.COMMITTED, Status.UNDONE])
def test_retry_of_an_import_that_is_not_stuck_is_a_conflict(client_api, alice, tenant, account, enqueued, status):
    done = stage_rows(account, ROWS, status=status)
    before = state(done)
    response = client_api.post(url(tenant, done, "/retry"), headers=factories.auth_headers(alice))
    assert response.status_code == 409 and "is not re-run" in response.json()["detail"]
    assert state(done) == before and enqueued == []


def test_undoing_an_uncommitted_import_is_a_conflict(client_api, alice, tenant, batch):
    before = state(batch)
    response = client_api.post(url(tenant, batch, "/undo"), headers=factories.auth_headers(alice))
    assert response.status_code == 409
    assert "only a committed import can be undone" in response.json()["detail"]
    assert state(batch) == before


def test_row_edits_after_commit_are_a_conflict(client_api, alice, tenant, batch):
    services.import_commit(tenant=tenant, actor=alice, import_id=batch.pk)
    before = state(batch)
    response = client_api.patch(url(tenant, batch, "/rows/2"), json={"excluded": True},
                                headers=factories.auth_headers(alice))
    assert response.status_code == 409 and "committed" in response.json()["detail"]
    assert state(batch) == before


def test_saving_a_preset_remembers_the_mapping_for_the_header(client_api, alice, tenant, batch):
    response = client_api.post(url(tenant, batch, "/preset"), headers=factories.auth_headers(alice))
    assert response.status_code == 201, response.text
    assert response.json()["mapping"] == {"date": "A", "description": "B", "amount": "C"}
    preset = MappingPreset.objects.get(tenant=tenant)
    assert preset.signature == batch.signature and preset.mapping == batch.mapping


def test_an_import_without_a_header_signature_cannot_become_a_preset(client_api, alice, tenant, account):
    bare = stage_rows(account, ROWS)
    response = client_api.post(url(tenant, bare, "/preset"), headers=factories.auth_headers(alice))
    assert response.status_code == 409
    assert not MappingPreset.objects.exists()


# --- reports --------------------------------------------------------------------------------


def test_the_csv_report_downloads_with_a_safe_name_and_escaped_formulas(client_api, alice, tenant, batch):
    response = client_api.get(url(tenant, batch, "/report.csv"), headers=factories.auth_headers(alice))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="M_rz _2024-errors.csv"'
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][:6] == ["row", "column", "code", "severity", "message", "value"]
    assert [line[2] for line in lines[1:]] == ["E_DATE_INVALID", "W_OUTLIER_AMOUNT", "W_DUPLICATE_IN_FILE"]
    formula_row = next(line for line in lines if line[0] == "4")
    assert formula_row[7] == "'" + HYPERLINK


def test_the_xlsx_report_downloads_and_opens(client_api, alice, tenant, batch, tmp_path):
    response = client_api.get(url(tenant, batch, "/report.xlsx"), headers=factories.auth_headers(alice))
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="M_rz _2024-errors.xlsx"'
    path = tmp_path / "r.xlsx"
    path.write_bytes(response.content)
    workbook = openpyxl.load_workbook(path)
    rows = workbook["Rows"]
    assert [rows.cell(line, 1).value for line in range(2, rows.max_row + 1)] == [3, 4, 6]
    assert "E_DATE_INVALID" in rows.cell(2, 2).comment.text
    assert workbook["Issues"].max_row == 4


# --- end to end (needs the reader half) ----------------------------------------------------


def test_an_uploaded_csv_is_read_in_the_background_and_reaches_review(client_api, alice, tenant, account, media):
    headers = factories.auth_headers(alice)
    response = upload(client_api, tenant, alice, account_id=account.pk)
    assert response.status_code == 202
    deadline, body = time.monotonic() + 30, response.json()
    while body["status"] in ("queued", "reading", "validating") and time.monotonic() < deadline:
        time.sleep(0.1)
        body = client_api.get(response.headers["location"], headers=headers).json()
    assert body["status"] == "review", json.dumps(body)
    assert body["summary"]["rows_total"] == 2 and body["mapping"]["date"] == "A"
