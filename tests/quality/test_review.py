"""The LLM review against a fake model server over real HTTP on 127.0.0.1 (nothing reaches the internet).

Both providers (Anthropic's SDK, and the OpenAI SDK against an OpenAI-compatible base URL) are
driven through the same scenarios: a good answer, malformed JSON, a schema-breaking answer, a
truncated answer, 429 then success, 500, a timeout; then the spend cap, the cache, masking, and
the API with its roles and tenants.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from coffer.audit.models import AuditEntry
from coffer.imports import services as import_services
from coffer.quality import jobs, services
from coffer.quality.models import Review, ReviewCache
from coffer.quality.review import notice, runner
from tests import factories
from tests.imports import builders
from tests.quality import sheets
from tests.quality.fakellm import INPUT_TOKENS, OUTPUT_TOKENS, FakeLLM, sent_rows

PROVIDERS = ("anthropic", "openai-compatible")
IBAN = "DE89 3704 0044 0532 0130 00"
CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.org"
PHONE = "+33 6 12 34 56 78"
# 1500 input tokens at 3.00/MTok + 400 output tokens at 15.00/MTok
ONE_CALL = Decimal("0.0105")


@pytest.fixture
def fake():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(params=PROVIDERS)
def llm(request, settings, fake):
    settings.LLM_PROVIDER = request.param
    settings.LLM_BASE_URL = fake.url if request.param == "anthropic" else fake.url + "/v1"
    settings.LLM_API_KEY = "test-key"
    settings.LLM_MODEL = "fake-model"
    settings.LLM_PRICE_INPUT_PER_MTOK = "3.00"
    settings.LLM_PRICE_OUTPUT_PER_MTOK = "15.00"
    settings.LLM_MONTHLY_SPEND_CAP = "10"
    settings.LLM_TIMEOUT_SECONDS = 20
    settings.LLM_RETRY_BASE_SECONDS = 0.01
    return fake


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def job_calls(monkeypatch):
    """Background hand-offs recorded instead of run; analyses run at once (the real job function)."""
    calls: list[str] = []
    monkeypatch.setattr(jobs, "enqueue_analysis", lambda analysis_id: services.analysis_run(analysis_id=analysis_id))
    monkeypatch.setattr(jobs, "enqueue_review", lambda review_id: calls.append(str(review_id)))
    return calls


def private_rows():
    rows = sheets.clean_rows(120)
    rows[0] += ["IBAN", "Card", "Phone"]
    for i, row in enumerate(rows[1:], start=1):
        row += [IBAN if i % 2 else IBAN.replace(" ", ""), CARD if i % 3 else CARD.replace(" ", ""), PHONE]
    rows[4][6] = EMAIL
    rows[90][6] = EMAIL  # a repeated e-mail: a finding whose value is the address
    rows[7][4] = "n/a"
    return rows


@pytest.fixture
def owner(db):
    return factories.user()


@pytest.fixture
def tenant(owner):
    tenant = factories.organization(owner, slug="acme")
    services.settings_update(tenant=tenant, actor=owner, review_enabled=True, notice_accepted=notice.VERSION)
    return tenant


def upload(tenant, person, path):
    with path.open("rb") as content:
        return import_services.import_create(tenant=tenant, actor=person, account_id=factories.account(tenant).pk,
                                             file_name=path.name, content=content, enqueue=False)


@pytest.fixture
def batch(tenant, owner, media, tmp_path):
    return upload(tenant, owner, builders.write_xlsx(tmp_path / "customers.xlsx", {"Data": private_rows()}))


def review_now(tenant, owner, batch) -> Review:
    review = services.review_start(tenant=tenant, actor=owner, import_id=batch.pk, sheet=None)
    runner.review_run(review_id=review.pk)
    review.refresh_from_db()
    return review


# --- scenarios, for both providers -------------------------------------------------------------


def test_a_good_answer_succeeds_with_model_findings_on_real_rows_tokens_and_cost(llm, tenant, owner, batch, job_calls):
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.SUCCEEDED, review.error
    assert (review.attempts, review.input_tokens, review.output_tokens) == (1, INPUT_TOKENS, OUTPUT_TOKENS)
    assert review.cost == ONE_CALL and review.reserved == 0 and review.progress == 100
    rows = sent_rows(llm.requests[0]["json"], llm.requests[0]["path"].endswith("/messages"))
    assert 25 <= len(rows) <= 40 and min(rows) >= 2 and max(rows) <= 121  # spread over the data rows
    assert max(rows) > 100 and min(rows) < 10
    findings = runner.findings_out(review)
    assert findings == [{"row": rows[0], "column": "E", "code": "AI_SUSPICIOUS", "severity": "warning",
                         "message": "This amount does not fit the customer's other orders.", "value": None,
                         "source": "model"}]
    assert len(llm.requests) == 1
    request = llm.requests[0]["json"]
    assert request["model"] == "fake-model"
    if llm.requests[0]["path"].endswith("/messages"):
        assert request["tool_choice"] == {"type": "tool", "name": "report_review"}
        assert request["tools"][0]["input_schema"]["required"] == ["summary", "findings"]
    else:
        assert request["response_format"]["type"] == "json_schema"
    assert ReviewCache.objects.count() == 1


@pytest.mark.parametrize("bad", ["malformed", "schema", "invented", "truncated"])
def test_an_unusable_answer_is_asked_again_once_with_the_error(llm, tenant, owner, batch, job_calls, bad):
    llm.script = [bad, "good"]
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.SUCCEEDED, review.error
    assert review.attempts == 2 and len(llm.requests) == 2
    assert (review.input_tokens, review.output_tokens) == (2 * INPUT_TOKENS, 2 * OUTPUT_TOKENS)
    assert review.cost == 2 * ONE_CALL  # the bad answer was paid for too
    retry = llm.requests[1]["body"]
    assert "Your previous answer was rejected" in retry
    expected = {"malformed": "not valid JSON", "schema": "does not fit the schema", "invented": "row 999999",
                "truncated": "cut off"}[bad]
    assert expected in retry


@pytest.mark.parametrize("bad", ["malformed", "schema", "truncated"])
def test_two_unusable_answers_fail_the_review_and_never_show_zero_issues(llm, tenant, owner, batch, job_calls, bad):
    llm.script = [bad, bad]
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.FAILED
    assert review.error.startswith("The model's answer was not usable twice")
    assert review.result is None and review.attempts == 2
    assert review.cost == 2 * ONE_CALL and review.reserved == 0
    assert not ReviewCache.objects.exists()


def test_429_then_success_is_retried_after_a_pause(llm, tenant, owner, batch, job_calls):
    llm.script = [429, "good"]
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.SUCCEEDED, review.error
    assert review.attempts == 2 and len(llm.requests) == 2
    assert review.cost == ONE_CALL  # a refused call costs nothing


def test_server_errors_are_retried_then_the_review_fails(llm, tenant, owner, batch, job_calls):
    llm.script = [500, 500, 500]
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.FAILED
    assert "HTTP 500" in review.error and "3 tries" in review.error
    assert review.attempts == 3 and review.cost == 0


def test_a_503_then_success_recovers(llm, tenant, owner, batch, job_calls):
    llm.script = [503, "good"]
    assert review_now(tenant, owner, batch).status == Review.Status.SUCCEEDED


def test_a_model_that_does_not_answer_in_time_fails_after_retries(llm, settings, tenant, owner, batch, job_calls):
    settings.LLM_TIMEOUT_SECONDS = 1
    llm.slow_seconds = 4
    llm.script = ["slow", "slow", "slow"]
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.FAILED
    assert "did not answer in time" in review.error
    assert review.attempts == 3


def test_a_refused_request_is_not_retried(llm, tenant, owner, batch, job_calls):
    llm.script = [401]
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.FAILED and "refused" in review.error
    assert len(llm.requests) == 1


def test_nothing_private_from_the_file_is_sent(llm, tenant, owner, batch, job_calls):
    review = review_now(tenant, owner, batch)
    assert review.status == Review.Status.SUCCEEDED
    sent = llm.sent()
    assert sent  # something was sent
    json_sent = json.dumps(sent)
    for secret in (IBAN, IBAN.replace(" ", ""), CARD, CARD.replace(" ", ""), EMAIL, PHONE, "buyer1@example.test"):
        assert secret not in sent and secret not in json_sent, secret
    digits = re.sub(r"\D", "", sent)
    assert "4111111111111111" not in digits.replace(" ", "")  # not even split up
    assert "<iban>" in sent and "<card>" in sent and "<email>" in sent
    assert "customers.xlsx" not in sent  # the file name stays too


# --- cap, cache, configuration -------------------------------------------------------------------


def test_the_spend_cap_refuses_a_review_before_anything_is_sent(llm, settings, tenant, owner, batch, job_calls):
    settings.LLM_MONTHLY_SPEND_CAP = "0.50"  # a review may cost up to 2 x (30000 x 3 + 4096 x 15) / 1e6 = 0.30288
    first = review_now(tenant, owner, batch)
    assert first.status == Review.Status.SUCCEEDED
    Review.objects.filter(pk=first.pk).update(cost=Decimal("0.25"))  # as if that one had been expensive
    ReviewCache.objects.all().delete()
    with pytest.raises(Exception) as refused:
        services.review_start(tenant=tenant, actor=owner, import_id=batch.pk, sheet=None)
    assert "monthly AI review budget of 0.50 is reached" in str(refused.value)
    assert "0.25 spent in" in str(refused.value) and "cost up to 0.30288" in str(refused.value)
    assert Review.objects.count() == 1 and len(llm.requests) == 1


def test_a_running_review_holds_its_worst_case_against_the_cap(llm, settings, tenant, owner, batch, job_calls):
    settings.LLM_MONTHLY_SPEND_CAP = "0.50"
    held = services.review_start(tenant=tenant, actor=owner, import_id=batch.pk, sheet=None)
    assert held.reserved == runner.worst_case_cost() == Decimal("0.302880")
    with pytest.raises(Exception, match="held by reviews still running"):
        services.review_start(tenant=tenant, actor=owner, import_id=batch.pk, sheet=None)
    assert llm.requests == []


def test_the_same_question_is_answered_from_the_cache_without_asking_or_paying(
    llm, tenant, owner, batch, job_calls, media, tmp_path
):
    from coffer.imports import staging

    first = review_now(tenant, owner, batch)
    assert first.status == Review.Status.SUCCEEDED and len(llm.requests) == 1
    copy = upload(tenant, owner, staging.file_path(batch))  # the same bytes, another import
    second = services.review_start(tenant=tenant, actor=owner, import_id=copy.pk, sheet=None)
    assert (second.status, second.cached, second.cost, second.reserved) == ("succeeded", True, 0, 0)
    assert second.result == first.result
    assert len(llm.requests) == 1 and Review.objects.filter(cached=True).count() == 1


def test_a_new_model_is_a_new_question(llm, settings, tenant, owner, batch, job_calls):
    review_now(tenant, owner, batch)
    settings.LLM_MODEL = "fake-model-2"
    second = review_now(tenant, owner, batch)
    assert second.status == Review.Status.SUCCEEDED and not second.cached and len(llm.requests) == 2


def test_a_review_is_refused_while_the_tenant_has_not_turned_it_on(llm, owner, media, tmp_path, job_calls):
    tenant = factories.organization(owner, slug="off")
    batch = upload(tenant, owner, sheets.xlsx(tmp_path, sheets.clean_rows(20)))
    with pytest.raises(Exception, match="The AI review is off for this tenant"):
        services.review_start(tenant=tenant, actor=owner, import_id=batch.pk, sheet=None)
    assert not Review.objects.exists() and llm.requests == []


def test_without_a_provider_the_review_is_unavailable(settings, tenant, owner, batch, job_calls):
    settings.LLM_PROVIDER = ""
    with pytest.raises(Exception, match="No LLM provider is configured"):
        services.review_start(tenant=tenant, actor=owner, import_id=batch.pk, sheet=None)
    assert not Review.objects.exists()


def test_starting_a_review_is_audited(llm, tenant, owner, batch, job_calls):
    review = services.review_start(tenant=tenant, actor=owner, import_id=batch.pk, sheet=None)
    entry = AuditEntry.objects.get(tenant=tenant, action="quality.review.start")
    assert entry.object_id == str(review.pk) and entry.changes["model"] == [None, "fake-model"]


def test_the_cli_review_uses_the_server_settings_and_the_cache(llm, tmp_path, db):
    import io

    from django.core.management import call_command

    path = builders.write_xlsx(tmp_path / "cli.xlsx", {"Data": private_rows()})
    out = io.StringIO()
    call_command("validate", str(path), "--ai", "--json", stdout=out)
    report = json.loads(out.getvalue())
    review = report["review"]
    assert (review["status"], review["cached"], review["calls"], review["cost"]) == ("succeeded", False, 1, "0.010500")
    assert [issue["source"] for issue in report["issues"]].count("model") == 1
    again = io.StringIO()
    call_command("validate", str(path), "--ai", "--json", stdout=again)
    assert json.loads(again.getvalue())["review"]["cached"] is True and len(llm.requests) == 1
    assert EMAIL not in llm.sent() and IBAN not in llm.sent()


# --- the API -------------------------------------------------------------------------------------------


@pytest.fixture
def team(transactional_db):
    people = {role: factories.user() for role in ("owner", "admin", "member", "viewer")}
    tenant = factories.organization(people["owner"], slug="team", admin=[people["admin"]], member=[people["member"]],
                                    viewer=[people["viewer"]])
    services.settings_update(tenant=tenant, actor=people["owner"], review_enabled=True, notice_accepted=notice.VERSION)
    return tenant, people


@pytest.fixture
def reviewed_now(monkeypatch):
    monkeypatch.setattr(jobs, "enqueue_analysis", lambda analysis_id: services.analysis_run(analysis_id=analysis_id))
    monkeypatch.setattr(jobs, "enqueue_review", lambda review_id: runner.review_run(review_id=review_id))


def _reviews_url(tenant, batch, tail=""):
    return f"/api/v1/tenants/{tenant.slug}/imports/{batch.pk}/workbook/reviews{tail}"


@pytest.mark.parametrize("llm", ["openai-compatible"], indirect=True)
@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_members_and_above_start_reviews_and_everyone_reads_them(
    client_api, llm, team, media, tmp_path, reviewed_now, role
):
    tenant, people = team
    batch = upload(tenant, people["owner"], sheets.xlsx(tmp_path, sheets.clean_rows(40)))
    response = client_api.post(_reviews_url(tenant, batch), json={},
                               headers=factories.auth_headers(people[role]))
    if role == "viewer":
        assert response.status_code == 403
        assert not Review.objects.exists() and llm.requests == []
        return
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    body = client_api.get(location, headers=factories.auth_headers(people["viewer"])).json()
    assert (body["status"], body["progress"], body["attempts"], body["cost"], body["cached"]) == (
        "succeeded", 100, 1, "0.0105", False)
    assert body["summary"] and body["findings"][0]["source"] == "model"
    listed = client_api.get(_reviews_url(tenant, batch), headers=factories.auth_headers(people["viewer"])).json()
    assert [item["id"] for item in listed] == [body["id"]]
    spend = client_api.get(f"/api/v1/tenants/{tenant.slug}/review-spend",
                           headers=factories.auth_headers(people["viewer"])).json()
    assert spend == {"month": dt.date.today().strftime("%Y-%m"), "spent": "0.0105", "reserved": "0", "cap": "10",
                     "remaining": "9.9895", "reviews": 1, "cached_reviews": 0, "input_tokens": INPUT_TOKENS,
                     "output_tokens": OUTPUT_TOKENS, "review_enabled": True}


@pytest.mark.parametrize("llm", ["anthropic"], indirect=True)
def test_the_api_refuses_with_409_when_the_cap_is_reached(client_api, llm, settings, team, media, tmp_path,
                                                          reviewed_now):
    tenant, people = team
    settings.LLM_MONTHLY_SPEND_CAP = "0.10"
    batch = upload(tenant, people["owner"], sheets.xlsx(tmp_path, sheets.clean_rows(40)))
    response = client_api.post(_reviews_url(tenant, batch), json={}, headers=factories.auth_headers(people["member"]))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "monthly AI review budget of 0.10 is reached" in response.json()["detail"]
    assert not Review.objects.exists() and llm.requests == []


@pytest.mark.parametrize("llm", ["anthropic"], indirect=True)
def test_another_tenants_reviews_and_spend_are_404(client_api, llm, team, media, tmp_path, reviewed_now, bob):
    tenant, people = team
    batch = upload(tenant, people["owner"], sheets.xlsx(tmp_path, sheets.clean_rows(40)))
    review = services.review_start(tenant=tenant, actor=people["owner"], import_id=batch.pk, sheet=None)
    other = factories.organization(bob, slug="bobs")
    headers = factories.auth_headers(bob)
    assert client_api.get(_reviews_url(tenant, batch, f"/{review.pk}"), headers=headers).status_code == 404
    mine = upload(other, bob, sheets.xlsx(tmp_path, sheets.clean_rows(10), name="b.xlsx"))
    leaked = client_api.get(_reviews_url(other, mine, f"/{review.pk}"), headers=headers)
    assert leaked.status_code == 404 and leaked.json()["detail"] == "No such review" and "fake-model" not in leaked.text
    assert client_api.post(_reviews_url(tenant, batch), json={}, headers=headers).status_code == 404
    assert client_api.get(f"/api/v1/tenants/{tenant.slug}/review-spend", headers=headers).status_code == 404
    bad = client_api.get(f"/api/v1/tenants/{other.slug}/review-spend", params={"month": "2024-13"}, headers=headers)
    assert bad.status_code == 422
