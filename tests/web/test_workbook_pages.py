"""The workbook pages: sheet tabs, the grid with findings highlighted, the profile, the AI review card,
the data-quality settings — roles, tenants, bad input, escaping, bounded queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffer.imports import services as import_services
from coffer.quality import services
from coffer.quality.models import QualitySettings, Review, SheetAnalysis
from coffer.quality.review import notice
from tests import factories
from tests.imports import builders
from tests.quality import sheets


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(org, path):
    with path.open("rb") as content:
        return import_services.import_create(tenant=org.tenant, actor=org.people["owner"],
                                             account_id=factories.account(org.tenant).pk, file_name=path.name,
                                             content=content, enqueue=False)


def analysed(batch, sheet):
    analysis = services.analysis_ensure(tenant=batch.tenant, import_id=batch.pk, sheet=sheet)
    services.analysis_run(analysis_id=analysis.pk)
    return analysis


@pytest.fixture
def batch(org, media, tmp_path):
    rows = sheets.clean_rows(150)
    rows[5][4] = "<b>n/a</b>"  # text among numbers, and markup that must stay text
    path = builders.write_xlsx(tmp_path / "invoices.xlsx", {"Data": rows, "Notes": [["Note"], ["hello"]]})
    batch = upload(org, path)
    analysed(batch, "Data")
    return batch


def url(org, batch, tail="workbook/"):
    return org.url(f"imports/{batch.pk}/{tail}")


def test_the_workbook_shows_tabs_the_grid_the_profile_and_highlights_findings(org, batch):
    response = org.client("viewer").get(url(org, batch))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="sheet-tabs"' in page and ">Notes <" in page
    assert 'data-testid="profile"' in page and "Amount" in page
    cell = re.search(r'<td class="cell cell-warning" data-type="text" title="([^"]+)">([^<]*)</td>', page)
    assert cell is not None
    assert cell.group(2) == "&lt;b&gt;n/a&lt;/b&gt;" and "<b>n/a</b>" not in page
    assert "is text in column E (Amount)" in cell.group(1)
    assert 'id="row-6"' in page and 'href="#row-6"' in page
    assert "Rows 1–100" in page and "Next 100" in page
    assert 'data-type="date">2024-01-01<' in page


def test_another_sheet_a_page_and_a_jump_to_a_row(org, batch):
    client = org.client("viewer")
    notes = client.get(url(org, batch), {"sheet": "Notes"}).content.decode()
    assert ">hello<" in notes and 'aria-current="page">Notes' in notes
    second = client.get(url(org, batch), {"page": 2}).content.decode()
    assert "Rows 101–151" in second and "Previous 100" in second
    jumped = client.get(url(org, batch), {"row": 140}).content.decode()
    assert 'id="row-140"' in jumped and "Page 2 of 2" in jumped


@pytest.mark.parametrize("query", [{"page": "0"}, {"page": "x"}, {"row": "-3"}])
def test_bad_paging_is_a_400(org, batch, query):
    assert org.client("viewer").get(url(org, batch), query).status_code == 400


def test_an_unknown_sheet_is_404(org, batch):
    assert org.client("viewer").get(url(org, batch), {"sheet": "Nope"}).status_code == 404


def test_an_unreadable_file_shows_the_reason(org, media, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 200)
    batch = upload(org, broken)
    response = org.client("owner").get(url(org, batch))
    assert response.status_code == 422
    assert 'data-testid="workbook-error"' in response.content.decode()


def test_while_the_analysis_runs_the_page_polls_and_then_reloads(org, media, tmp_path, monkeypatch):
    from coffer.quality import jobs

    monkeypatch.setattr(jobs, "enqueue_analysis", lambda analysis_id: None)
    batch = upload(org, sheets.xlsx(tmp_path, sheets.clean_rows(20)))
    page = org.client("viewer").get(url(org, batch)).content.decode()
    assert 'data-testid="analysis"' in page and 'hx-trigger="every 2s"' in page
    assert "Findings appear once the sheet is analysed" in page
    status_url = url(org, batch, "workbook/status/")
    assert org.client("viewer").get(status_url, headers={"HX-Request": "true"}).status_code == 200
    services.analysis_run(analysis_id=SheetAnalysis.objects.get().pk)
    done = org.client("viewer").get(status_url, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_the_import_page_links_to_the_workbook(org, batch):
    page = org.client("viewer").get(org.url(f"imports/{batch.pk}/")).content.decode()
    assert f'href="/t/{org.tenant.slug}/imports/{batch.pk}/workbook/"' in page


@pytest.mark.parametrize("tail", ["workbook/", "workbook/status/"])
def test_outsiders_get_404(org, batch, tail):
    assert org.client("outsider").get(url(org, batch, tail)).status_code == 404


def test_the_page_runs_a_bounded_number_of_queries(org, batch):
    client = org.client("viewer")
    client.get(url(org, batch))
    for query in ({"page": 1}, {"page": 2}):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(org, batch), query).status_code == 200
        assert len(queries) <= 14, [q["sql"] for q in queries]


# --- the AI review card ------------------------------------------------------------------------


def test_without_the_review_turned_on_nobody_sees_the_button_and_a_post_is_refused(org, batch, settings):
    settings.LLM_PROVIDER, settings.LLM_MODEL, settings.LLM_API_KEY = "anthropic", "m", "k"
    page = org.client("member").get(url(org, batch)).content.decode()
    assert 'data-testid="review-start"' not in page and "The AI review is off in this space" in page
    response = org.client("member").post(url(org, batch, "workbook/reviews/"), {"sheet": "Data"}, follow=True)
    assert "The AI review is off for this tenant" in response.content.decode()
    assert not Review.objects.exists()


def test_viewers_do_not_see_the_review_button_and_cannot_start_one(org, batch, settings):
    settings.LLM_PROVIDER, settings.LLM_MODEL, settings.LLM_API_KEY = "anthropic", "m", "k"
    services.settings_update(tenant=org.tenant, actor=org.people["owner"], review_enabled=True,
                             notice_accepted=notice.VERSION)
    assert 'data-testid="review-start"' in org.client("member").get(url(org, batch)).content.decode()
    assert 'data-testid="review-start"' not in org.client("viewer").get(url(org, batch)).content.decode()
    assert org.client("viewer").post(url(org, batch, "workbook/reviews/"), {"sheet": "Data"}).status_code == 403
    assert not Review.objects.exists()


def test_a_finished_review_shows_its_findings_from_the_model_and_its_cost(org, batch):
    Review.objects.create(
        tenant=org.tenant, batch=batch, sha256=batch.sha256, sheet="Data", provider="anthropic", model="fake",
        prompt_version="1", status=Review.Status.SUCCEEDED, progress=100, input_tokens=1500, output_tokens=400,
        cost="0.0105", result={"summary": "Mostly fine <i>really</i>.", "findings": [
            {"row": 7, "column": "E", "severity": "warning", "category": "suspicious", "message": "Odd amount."}]},
    )
    page = org.client("viewer").get(url(org, batch)).content.decode()
    assert "from the AI model" in page and "AI_SUSPICIOUS" in page and "Odd amount." in page
    assert "Mostly fine &lt;i&gt;really&lt;/i&gt;." in page
    assert "1500 input + 400 output tokens · cost 0.0105" in page


def test_a_failed_review_never_reads_as_no_issues(org, batch):
    Review.objects.create(tenant=org.tenant, batch=batch, sha256=batch.sha256, sheet="Data", provider="anthropic",
                          model="fake", prompt_version="1", status=Review.Status.FAILED, error="HTTP 500")
    page = org.client("viewer").get(url(org, batch)).content.decode()
    assert "The review failed" in page and "HTTP 500" in page and "found nothing" not in page


def test_another_tenants_review_card_is_404(org, batch, bob):
    review = Review.objects.create(tenant=org.tenant, batch=batch, sha256=batch.sha256, sheet="Data",
                                   provider="anthropic", model="fake", prompt_version="1")
    other = factories.organization(bob, slug="bobs")
    client = org.client("owner")
    client.force_login(bob)
    assert client.get(f"/t/{other.slug}/imports/{batch.pk}/workbook/reviews/{review.pk}/").status_code == 404
    assert org.client("viewer").get(url(org, batch, f"workbook/reviews/{review.pk}/")).status_code == 200


# --- settings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer", "outsider"])
def test_only_admins_and_owners_open_the_settings(org, role):
    status = org.client(role).get(org.url("quality/settings/")).status_code
    assert status == {"owner": 200, "admin": 200, "member": 403, "viewer": 403, "outsider": 404}[role]


def test_turning_the_review_on_needs_the_notice_accepted(org):
    client = org.client("admin")
    page = client.get(org.url("quality/settings/")).content.decode()
    assert 'data-testid="notice"' in page and "IBANs" in page
    families = ["error_cells", "type_breaks", "blanks"]
    refused = client.post(org.url("quality/settings/"), {"enabled_rules": families, "review_enabled": "on"})
    assert refused.status_code == 422 and "Accept the notice" in refused.content.decode()
    assert not QualitySettings.objects.exists()
    saved = client.post(org.url("quality/settings/"), {"enabled_rules": families, "review_enabled": "on",
                                                       "notice_accepted": "on", "monthly_cap": "12.50"})
    assert saved.status_code == 302
    current = QualitySettings.objects.get(tenant=org.tenant)
    assert current.review_enabled and current.review_enabled_by == org.people["admin"]
    assert str(current.monthly_cap) == "12.5000"
    assert set(current.disabled_rules) == {"duplicate_rows", "duplicate_values", "outliers", "formats", "spaces",
                                           "spellings"}


def test_a_member_cannot_post_the_settings(org):
    response = org.client("member").post(org.url("quality/settings/"), {"review_enabled": "on",
                                                                        "notice_accepted": "on"})
    assert response.status_code == 403 and not QualitySettings.objects.exists()
