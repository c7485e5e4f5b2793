"""The workbook API: sheets, rows, profile, quality report and settings — roles, tenants, bad input, query counts."""

from __future__ import annotations

import uuid

import pytest

from coffer.audit.models import AuditEntry
from coffer.imports import services as import_services
from coffer.quality import jobs, services
from coffer.quality.models import Finding, QualitySettings, SheetAnalysis
from tests import factories
from tests.imports import builders
from tests.quality import sheets
from tests.querycount import count_queries

ROLES = ("owner", "admin", "member", "viewer")


# --- arrange ------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def people(alice, transactional_db):
    return {"owner": alice, "admin": factories.user(), "member": factories.user(), "viewer": factories.user(),
            "outsider": factories.user()}


@pytest.fixture
def tenant(people):
    return factories.organization(people["owner"], slug="acme", admin=[people["admin"]],
                                  member=[people["member"]], viewer=[people["viewer"]])


@pytest.fixture
def analysed_now(monkeypatch):
    """The analysis job, run in the request's thread once its transaction commits (the real job
    function; only the hand-off to a thread or a worker is skipped)."""
    monkeypatch.setattr(jobs, "enqueue_analysis", lambda analysis_id: services.analysis_run(analysis_id=analysis_id))


@pytest.fixture
def queued(monkeypatch):
    """The analysis job, recorded and not run (to see the answers while it is pending)."""
    calls: list[str] = []
    monkeypatch.setattr(jobs, "enqueue_analysis", lambda analysis_id: calls.append(str(analysis_id)))
    return calls


def stored_upload(tenant, person, path, *, account=None):
    account = account or factories.account(tenant)
    with path.open("rb") as content:
        return import_services.import_create(tenant=tenant, actor=person, account_id=account.pk,
                                             file_name=path.name, content=content, enqueue=False)


def dirty_rows():
    rows = sheets.clean_rows(250)
    rows[5][4] = "n/a"  # E6: text among numbers
    rows[8][3] = "paris "  # D9: spaces and a spelling variant
    rows[120][0] = rows[10][0]  # A121: a repeated id
    return rows


@pytest.fixture
def batch(tenant, people, media, tmp_path):
    path = builders.write_xlsx(tmp_path / "invoices.xlsx", {"Data": dirty_rows(), "Notes": [["Note"], ["hello"]]})
    return stored_upload(tenant, people["owner"], path)


@pytest.fixture
def stranger(bob, media, tmp_path):
    """Bob's own organization with an upload of the same file; Alice is not in it."""
    tenant = factories.organization(bob, slug="bobs")
    path = builders.write_xlsx(tmp_path / "bobs.xlsx", {"Data": dirty_rows()})
    return stored_upload(tenant, bob, path)


def url(tenant, batch, tail: str) -> str:
    return f"/api/v1/tenants/{tenant.slug}/imports/{batch.pk}/workbook{tail}"


def get(client, person, path, **params):
    return client.get(path, params=params, headers=factories.auth_headers(person))


# --- sheets and rows --------------------------------------------------------------------------


def test_sheets_lists_every_sheet_with_its_size_and_the_default(client_api, people, tenant, batch, analysed_now):
    response = get(client_api, people["viewer"], url(tenant, batch, "/sheets"))
    assert response.status_code == 200, response.text
    assert response.json() == {"sheets": [
        {"name": "Data", "rows": 251, "columns": 7, "visible": True},
        {"name": "Notes", "rows": 2, "columns": 1, "visible": True}], "default": "Data"}


def test_rows_come_100_a_page_with_typed_cells_and_findings(client_api, people, tenant, batch, analysed_now):
    response = get(client_api, people["viewer"], url(tenant, batch, "/rows"), sheet="Data")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["page"], body["pages"], body["page_size"], body["rows_total"]) == (1, 3, 100, 251)
    assert body["columns"] == ["A", "B", "C", "D", "E", "F", "G"]
    assert [item["row"] for item in body["items"]][:3] == [1, 2, 3] and len(body["items"]) == 100
    second = body["items"][1]["cells"]
    assert second["A"] == {"type": "text", "value": "INV-1000"}
    assert second["B"] == {"type": "date", "value": "2024-01-01"}
    assert second["F"]["type"] == "number"
    assert body["analysis"] == "ready"
    row6 = body["items"][5]
    assert [(f["column"], f["code"], f["source"]) for f in row6["findings"]] == [("E", "W_TYPE_MISMATCH", "rules")]
    assert body["items"][0]["findings"] == []


def test_jump_to_a_row_opens_its_page_and_a_page_past_the_end_is_the_last(
    client_api, people, tenant, batch, analysed_now
):
    body = get(client_api, people["member"], url(tenant, batch, "/rows"), row=121).json()
    assert body["page"] == 2
    row = next(item for item in body["items"] if item["row"] == 121)
    assert [(f["column"], f["code"], f["value"]) for f in row["findings"]] == [("A", "W_DUPLICATE_VALUE", "INV-1009")]
    last = get(client_api, people["member"], url(tenant, batch, "/rows"), page=50).json()
    assert last["page"] == 3 and [item["row"] for item in last["items"]] == [201 + i for i in range(51)]


def test_rows_of_another_sheet_and_of_a_sheet_that_does_not_exist(client_api, people, tenant, batch, analysed_now):
    body = get(client_api, people["owner"], url(tenant, batch, "/rows"), sheet="Notes").json()
    assert [(item["row"], item["cells"]) for item in body["items"]] == [
        (1, {"A": {"type": "text", "value": "Note"}}), (2, {"A": {"type": "text", "value": "hello"}})]
    missing = get(client_api, people["owner"], url(tenant, batch, "/rows"), sheet="Nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "no sheet named 'Nope'" in missing.json()["detail"]


@pytest.mark.parametrize("params", [{"page": 0}, {"page": "x"}, {"row": 0}, {"sheet": "x" * 300}])
def test_bad_paging_is_a_422_problem(client_api, people, tenant, batch, analysed_now, params):
    response = get(client_api, people["owner"], url(tenant, batch, "/rows"), **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_csv_upload_is_one_unnamed_sheet_and_refuses_a_sheet_name(
    client_api, people, tenant, media, tmp_path, analysed_now
):
    batch = stored_upload(tenant, people["owner"], sheets.csv(tmp_path, sheets.clean_rows(30)))
    assert get(client_api, people["owner"], url(tenant, batch, "/sheets")).json() == {
        "sheets": [{"name": None, "rows": 31, "columns": 7, "visible": True}], "default": None}
    body = get(client_api, people["owner"], url(tenant, batch, "/rows")).json()
    assert body["sheet"] is None and len(body["items"]) == 31
    refused = get(client_api, people["owner"], url(tenant, batch, "/rows"), sheet="Data")
    assert refused.status_code == 422 and "CSV" in refused.json()["detail"]


# --- profile and quality ------------------------------------------------------------------------


def test_the_profile_answers_202_while_the_analysis_is_pending_then_200(client_api, people, tenant, batch, queued):
    pending = get(client_api, people["viewer"], url(tenant, batch, "/profile"))
    assert pending.status_code == 202, pending.text
    assert pending.json()["status"] == "queued" and pending.headers["location"].endswith("/workbook/profile")
    assert len(queued) == 1
    again = get(client_api, people["viewer"], url(tenant, batch, "/profile"))
    assert again.status_code == 202 and len(queued) == 1  # started once
    services.analysis_run(analysis_id=queued[0])
    done = get(client_api, people["viewer"], url(tenant, batch, "/profile"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["sheet"], body["rows"], body["header_row"], body["data_rows"]) == ("Data", 251, 1, 250)
    amount = next(column for column in body["columns"] if column["name"] == "Amount")
    assert (amount["column"], amount["type"], amount["kinds"]) == ("E", "number", {"number": 249, "text": 1})


def test_the_same_file_is_analysed_once_whoever_uploads_it(client_api, people, tenant, batch, bob, analysed_now):
    from coffer.imports import staging

    assert get(client_api, people["owner"], url(tenant, batch, "/profile")).status_code == 200
    other = factories.organization(bob, slug="bobs")
    again = stored_upload(other, bob, staging.file_path(batch))
    assert again.sha256 == batch.sha256
    response = get(client_api, bob, url(other, again, "/profile"))
    assert response.status_code == 200
    assert SheetAnalysis.objects.filter(sha256=batch.sha256).count() == 1


def test_an_unreadable_upload_is_a_422_with_the_reason(client_api, people, tenant, media, tmp_path, analysed_now):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 200)
    batch = stored_upload(tenant, people["owner"], broken)
    response = get(client_api, people["owner"], url(tenant, batch, "/profile"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert not Finding.objects.exists()


def test_the_quality_report_lists_findings_with_counts_and_pages(client_api, people, tenant, batch, analysed_now):
    body = get(client_api, people["viewer"], url(tenant, batch, "/quality"), limit=2).json()
    assert body["counts"] == {"W_DUPLICATE_VALUE": 1, "W_SPELLING_VARIANT": 1, "W_SURROUNDING_SPACES": 1,
                              "W_TYPE_MISMATCH": 1}
    assert (body["errors"], body["warnings"]) == (0, 4)
    assert [(f["row"], f["column"], f["code"]) for f in body["items"]] == [
        (6, "E", "W_TYPE_MISMATCH"), (9, "D", "W_SPELLING_VARIANT")]
    rest = get(client_api, people["viewer"], url(tenant, batch, "/quality"), limit=2, cursor=body["next"]).json()
    assert [(f["row"], f["code"]) for f in rest["items"]] == [(9, "W_SURROUNDING_SPACES"), (121, "W_DUPLICATE_VALUE")]
    assert rest["next"] is None
    only = get(client_api, people["viewer"], url(tenant, batch, "/quality"), code="W_SURROUNDING_SPACES").json()
    assert [(f["row"], f["column"], f["value"]) for f in only["items"]] == [(9, "D", "paris ")]
    assert get(client_api, people["viewer"], url(tenant, batch, "/quality"), column="e").json()["items"][0]["row"] == 6
    assert get(client_api, people["viewer"], url(tenant, batch, "/quality"), severity="error").json()["items"] == []
    assert {rule["family"]: rule["enabled"] for rule in body["rules"]}["spaces"] is True


@pytest.mark.parametrize("params", [{"cursor": "nonsense"}, {"limit": 0}, {"limit": 101}, {"code": "bad code"},
                                    {"severity": "fatal"}, {"column": "A1"}])
def test_bad_report_queries_are_422(client_api, people, tenant, batch, analysed_now, params):
    response = get(client_api, people["viewer"], url(tenant, batch, "/quality"), **params)
    assert response.status_code == 422, response.text


def test_rules_a_tenant_switched_off_leave_the_report_and_the_grid(client_api, people, tenant, batch, analysed_now):
    services.settings_update(tenant=tenant, actor=people["admin"], disabled_rules=["spaces", "spellings"])
    body = get(client_api, people["viewer"], url(tenant, batch, "/quality")).json()
    assert body["counts"] == {"W_DUPLICATE_VALUE": 1, "W_TYPE_MISMATCH": 1}
    assert [f["code"] for f in body["items"]] == ["W_TYPE_MISMATCH", "W_DUPLICATE_VALUE"]
    rows = get(client_api, people["viewer"], url(tenant, batch, "/rows")).json()
    assert rows["items"][8]["findings"] == []


def test_the_rows_and_the_report_run_a_bounded_number_of_queries(client_api, people, tenant, batch, analysed_now):
    get(client_api, people["viewer"], url(tenant, batch, "/rows"))  # analysis done, sheets cached
    headers = factories.auth_headers(people["viewer"])
    for tail, params in (("/rows", {"page": 1}), ("/rows", {"page": 3}), ("/quality", {"limit": 100}),
                         ("/quality", {"limit": 1})):
        with count_queries() as queries:
            response = client_api.get(url(tenant, batch, tail), params=params, headers=headers)
        assert response.status_code == 200
        assert len(queries) <= 8, (tail, params, queries)


# --- tenants, roles, sign-in ---------------------------------------------------------------------

READS = ["/sheets", "/rows", "/profile", "/quality", "/reviews"]


@pytest.mark.parametrize("tail", READS)
def test_another_tenants_import_is_404_and_nothing_leaks(client_api, people, tenant, stranger, analysed_now, tail):
    response = get(client_api, people["owner"], url(tenant, stranger, tail))
    assert response.status_code == 404
    assert stranger.file_name not in response.text and "Data" not in response.text
    outsider = get(client_api, people["outsider"], url(stranger.tenant, stranger, tail))
    assert outsider.status_code == 404


@pytest.mark.parametrize("tail", READS)
def test_an_unknown_import_id_is_404(client_api, people, tenant, batch, analysed_now, tail):
    path = f"/api/v1/tenants/{tenant.slug}/imports/{uuid.uuid4()}/workbook{tail}"
    assert get(client_api, people["owner"], path).status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tail", READS)
def test_every_role_reads(client_api, people, tenant, batch, analysed_now, role, tail):
    assert get(client_api, people[role], url(tenant, batch, tail)).status_code == 200


def test_without_sign_in_it_is_401(client_api, tenant, batch):
    assert client_api.get(url(tenant, batch, "/rows")).status_code == 401


# --- settings ---------------------------------------------------------------------------------------


def settings_url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.slug}/quality-settings"


def test_settings_show_every_rule_on_and_the_review_off_with_its_notice(client_api, people, tenant):
    body = get(client_api, people["viewer"], settings_url(tenant)).json()
    assert [rule["enabled"] for rule in body["rules"]] == [True] * 9
    assert body["review_enabled"] is False and body["review_available"] is False
    assert "IBAN" in body["notice"] and body["notice_version"] == "1"


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_and_owners_change_settings(client_api, people, tenant, role):
    response = client_api.put(settings_url(tenant), json={"disabled_rules": ["outliers"]},
                              headers=factories.auth_headers(people[role]))
    if role in ("owner", "admin"):
        assert response.status_code == 200, response.text
        assert {r["family"]: r["enabled"] for r in response.json()["rules"]}["outliers"] is False
        entry = AuditEntry.objects.get(tenant=tenant, action="quality.settings")
        assert entry.changes == {"disabled_rules": [[], ["outliers"]]}
    else:
        assert response.status_code == 403
        assert not QualitySettings.objects.exists() and not AuditEntry.objects.filter(action="quality.settings").exists()


def test_the_review_is_turned_on_only_with_the_notice_accepted(client_api, people, tenant):
    headers = factories.auth_headers(people["admin"])
    refused = client_api.put(settings_url(tenant), json={"review_enabled": True}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "notice_accepted"
    assert not QualitySettings.objects.filter(review_enabled=True).exists()
    accepted = client_api.put(settings_url(tenant), json={"review_enabled": True, "notice_accepted": "1",
                                                          "monthly_cap": "25.50"}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["review_enabled"] is True and body["monthly_cap"] == "25.5" and not body["monthly_cap_is_default"]
    saved = QualitySettings.objects.get(tenant=tenant)
    assert saved.review_enabled_by == people["admin"] and saved.review_notice_version == "1"


@pytest.mark.parametrize("body", [{"disabled_rules": ["nope"]}, {"monthly_cap": "-1"}, {"monthly_cap": "lots"},
                                  {"unknown": 1}, {"review_enabled": "yes"}])
def test_bad_settings_are_422_and_change_nothing(client_api, people, tenant, body):
    response = client_api.put(settings_url(tenant), json=body, headers=factories.auth_headers(people["owner"]))
    assert response.status_code == 422, response.text
    assert not QualitySettings.objects.exists()


def test_another_tenants_settings_are_404(client_api, people, tenant, bob):
    other = factories.organization(bob, slug="bobs")
    assert get(client_api, people["owner"], settings_url(other)).status_code == 404
    response = client_api.put(settings_url(other), json={"disabled_rules": []},
                              headers=factories.auth_headers(people["owner"]))
    assert response.status_code == 404
