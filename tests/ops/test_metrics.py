"""/metrics: protected by a token; latency by route template and status; SQL per request; jobs; queues."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from coffer.imports import jobs, services, staging
from coffer.ops import context, metrics
from tests import factories
from tests.ops.conftest import sample
from tests.querycount import count_queries

TOKEN = "scrape-secret-0123456789"
SAMPLES = Path(__file__).resolve().parent.parent / "imports" / "samples"


@pytest.fixture
def scrape(client_api, settings):
    settings.METRICS_TOKEN = TOKEN

    def get() -> str:
        response = client_api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")
        assert response.headers["cache-control"] == "no-store"
        return response.text

    return get


# --- who may read it ------------------------------------------------------------------------


def test_metrics_do_not_exist_without_a_configured_token(client_api, settings):
    settings.METRICS_TOKEN = ""
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        response = client_api.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert "coffer_http_request_duration_seconds" not in response.text


@pytest.mark.parametrize("authorization", [None, "", "Bearer", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN,
                                           f"Bearer {TOKEN[:-1]}", "Bearer " + "é"])
def test_metrics_refuse_a_missing_or_wrong_token(client_api, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {} if authorization is None else {"Authorization": authorization.encode("utf-8")}
    response = client_api.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "coffer_" not in response.text


def test_a_personal_access_token_or_session_is_no_metrics_token(client_api, settings, owner):
    settings.METRICS_TOKEN = TOKEN
    assert client_api.get("/metrics", headers=factories.auth_headers(owner)).status_code == 401


# --- what it says ---------------------------------------------------------------------------


def _labels(text: str, metric: str) -> list[dict[str, str]]:
    found = []
    for line in text.splitlines():
        if line.startswith(metric + "{"):
            found.append(dict(re.findall(r'(\w+)="([^"]*)"', line)))
    return found


def test_latency_is_labelled_by_route_template_and_status_never_by_raw_path(scrape, client_api, owner, tenant):
    headers = factories.auth_headers(owner)
    account = factories.account(tenant, name="Main")
    client_api.get(f"/api/v1/tenants/{tenant.slug}/accounts", headers=headers)
    client_api.get(f"/api/v1/tenants/{tenant.slug}/accounts/{account.pk}", headers=headers)
    client_api.get("/api/v1/tenants/someone-else/accounts", headers=headers)  # not a member: 404
    client_api.get(f"/no/such/page/{account.pk}")
    text = scrape()
    labels = _labels(text, "coffer_http_request_duration_seconds_count")
    routes = {(item["method"], item["route"], item["status"]) for item in labels}
    assert ("GET", "/api/v1/tenants/{tenant}/accounts", "200") in routes
    assert ("GET", "/api/v1/tenants/{tenant}/accounts/{account_id}", "200") in routes
    assert ("GET", "/api/v1/tenants/{tenant}/accounts", "404") in routes
    assert ("GET", metrics.UNMATCHED, "404") in routes
    for secret in (tenant.slug, str(account.pk), str(tenant.pk), "someone-else", "/no/such"):
        assert secret not in text  # no tenant, id or raw path in any label


def test_django_pages_are_labelled_by_their_url_pattern(scrape, client_api):
    client_api.get("/healthz")
    client_api.get("/accounts/login/")
    routes = {item["route"] for item in _labels(scrape(), "coffer_http_request_duration_seconds_count")}
    assert {"/healthz", "/accounts/login/"} <= routes


def test_a_request_counts_every_sql_statement_it_ran_in_every_thread(client_api, owner, tenant):
    for n in range(3):
        factories.account(tenant, name=f"Account {n}")
    route = "/api/v1/tenants/{tenant}/accounts"
    before_count = sample("coffer_http_request_sql_statements_count", route=route)
    before_sum = sample("coffer_http_request_sql_statements_sum", route=route)
    before_time = sample("coffer_http_request_sql_seconds_sum", route=route)
    with count_queries() as queries:
        response = client_api.get(f"/api/v1/tenants/{tenant.slug}/accounts", headers=factories.auth_headers(owner))
    assert response.status_code == 200
    assert sample("coffer_http_request_sql_statements_count", route=route) == before_count + 1
    assert sample("coffer_http_request_sql_statements_sum", route=route) - before_sum == len(queries) > 0
    assert sample("coffer_http_request_sql_seconds_sum", route=route) > before_time


def test_a_refused_request_is_counted_with_its_status(scrape, client_api, tenant):
    before = sample("coffer_http_request_duration_seconds_count", method="GET",
                    route="/api/v1/tenants/{tenant}/accounts", status="401")
    client_api.get(f"/api/v1/tenants/{tenant.slug}/accounts")
    after = sample("coffer_http_request_duration_seconds_count", method="GET",
                   route="/api/v1/tenants/{tenant}/accounts", status="401")
    assert after == before + 1


# --- slow statements ------------------------------------------------------------------------

SLOW_SQL = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) SELECT count(*) FROM n"
SLOW_PARAMS = [314159]


def test_a_slow_statement_is_logged_with_the_request_id_and_tenant(db, settings, caplog):
    settings.SLOW_SQL_MS = 1
    with context.scope(context.RequestContext(request_id="slow-1", tenant="tenant-1")):
        with caplog.at_level(logging.WARNING, logger="coffer.sql.slow"), connection.cursor() as cursor:
            cursor.execute(SLOW_SQL, SLOW_PARAMS)
    [record] = [r for r in caplog.records if r.name == "coffer.sql.slow"]
    assert record.sql == SLOW_SQL and record.duration_ms >= 1
    assert SLOW_SQL in record.getMessage() and "314159" not in record.getMessage()  # parameters stay out
    from coffer.ops import logconfig

    logconfig.ContextFilter().filter(record)
    assert (record.request_id, record.tenant) == ("slow-1", "tenant-1")


@pytest.mark.parametrize("threshold", [0, 600_000])
def test_statements_under_the_threshold_or_with_the_log_off_are_not_logged(db, settings, caplog, threshold):
    settings.SLOW_SQL_MS = threshold
    with caplog.at_level(logging.WARNING, logger="coffer.sql.slow"), connection.cursor() as cursor:
        cursor.execute(SLOW_SQL, SLOW_PARAMS)
    assert not [r for r in caplog.records if r.name == "coffer.sql.slow"]


# --- import jobs ----------------------------------------------------------------------------


@pytest.fixture
def importing(owner, tenant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    account = factories.account(tenant, name="Main", currency="EUR")

    def upload(name: str, content: bytes | None = None):
        data = content if content is not None else (SAMPLES / name).read_bytes()
        import io

        return services.import_create(tenant=tenant, actor=owner, account_id=account.pk, file_name=name,
                                      content=io.BytesIO(data), enqueue=False)

    return upload


def _job(kind: str, outcome: str) -> float:
    return sample("coffer_import_job_duration_seconds_count", kind=kind, outcome=outcome)


def test_a_staging_and_a_commit_job_record_duration_rows_and_rows_per_second(importing, owner, tenant):
    before = {key: _job(*key) for key in (("stage", "ok"), ("commit", "ok"))}
    rows_before = {kind: sample("coffer_import_job_rows_total", kind=kind) for kind in ("stage", "commit")}
    rate_before = sample("coffer_import_job_rows_per_second_count", kind="stage")
    batch = importing("samples_overlap_a.csv")
    staging.run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "review" and batch.rows_written > 0
    assert _job("stage", "ok") == before[("stage", "ok")] + 1
    assert sample("coffer_import_job_rows_total", kind="stage") == rows_before["stage"] + batch.rows_written
    assert sample("coffer_import_job_rows_per_second_count", kind="stage") == rate_before + 1

    services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk, enqueue=False)
    services.import_commit_run(batch_id=batch.pk, actor_id=owner.pk)
    batch.refresh_from_db()
    assert batch.status == "committed"
    assert _job("commit", "ok") == before[("commit", "ok")] + 1
    assert sample("coffer_import_job_rows_total", kind="commit") == rows_before["commit"] + batch.rows_committed


def test_a_failed_import_counts_as_a_failure_and_a_repeated_job_is_not_counted(importing):
    failures = sample("coffer_import_job_failures_total", kind="stage")
    failed_runs, ok_runs = _job("stage", "failed"), _job("stage", "ok")
    batch = importing("broken.xlsx", b"PK\x03\x04 this is not a workbook")
    staging.run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert sample("coffer_import_job_failures_total", kind="stage") == failures + 1
    assert _job("stage", "failed") == failed_runs + 1
    staging.run(batch_id=batch.pk)  # a redelivered job finds it finished and does nothing
    assert sample("coffer_import_job_failures_total", kind="stage") == failures + 1
    assert _job("stage", "failed") == failed_runs + 1 and _job("stage", "ok") == ok_runs


def test_a_job_that_crashes_is_counted_failed_and_still_raises(importing, monkeypatch):
    batch = importing("samples_overlap_a.csv")
    failures = sample("coffer_import_job_failures_total", kind="stage")

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(staging, "mark_duplicates", explode)
    with pytest.raises(RuntimeError):
        staging.run(batch_id=batch.pk)
    assert sample("coffer_import_job_failures_total", kind="stage") == failures + 1


def test_log_lines_of_a_job_carry_its_tenant(importing, tenant, caplog, monkeypatch):
    batch = importing("samples_overlap_a.csv")
    seen = []
    original = staging.summarise

    def spy(batch_):
        seen.append(context.current())
        return original(batch_)

    monkeypatch.setattr(staging, "summarise", spy)
    staging.run(batch_id=batch.pk)
    assert [ctx.tenant for ctx in seen] == [str(tenant.pk)]
    assert seen[0].sql_count > 0


# --- queue depth ----------------------------------------------------------------------------


def _depths() -> dict[tuple[str, str], int]:
    return {(runner, queue): depth for runner, queue, depth in metrics.queue_depths()}


def test_the_in_process_runner_reports_jobs_waiting_for_a_thread(settings, scrape):
    settings.CELERY_BROKER_URL = ""
    release = threading.Event()
    pool = jobs._pool()
    busy = [pool.submit(release.wait, 30) for _ in range(settings.IMPORT_WORKERS)]
    waiting = [pool.submit(release.wait, 30) for _ in range(3)]
    try:
        # An earlier test's job may still hold a thread, so count what of ours has not started.
        time.sleep(0.2)  # time for free threads to pick up the busy ones
        queued = sum(not future.running() for future in busy + waiting)
        assert queued >= 3
        assert _depths() == {("in-process", "imports"): queued}
        assert f'coffer_job_queue_depth{{queue="imports",runner="in-process"}} {queued}.0' in scrape()
    finally:
        release.set()
        for future in busy + waiting:
            future.result(timeout=30)
    assert _depths() == {("in-process", "imports"): 0}


def test_the_celery_queue_depth_is_read_from_the_broker(settings):
    import kombu

    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_TASK_DEFAULT_QUEUE = f"ops-test-{os.getpid()}"
    queue = kombu.Queue(settings.CELERY_TASK_DEFAULT_QUEUE, routing_key=settings.CELERY_TASK_DEFAULT_QUEUE)
    assert _depths() == {("celery", settings.CELERY_TASK_DEFAULT_QUEUE): 0}  # never declared yet
    with kombu.Connection("memory://") as conn:
        producer = conn.Producer()
        for n in range(4):
            producer.publish({"n": n}, routing_key=queue.name, declare=[queue])
    assert _depths() == {("celery", settings.CELERY_TASK_DEFAULT_QUEUE): 4}
    with kombu.Connection("memory://") as conn:
        queue(conn.default_channel).purge()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL for a real Celery broker")
def test_the_celery_queue_depth_on_redis_is_the_length_of_the_queue(settings, importing):
    import redis

    from coffer.celery import app

    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    settings.CELERY_TASK_DEFAULT_QUEUE = queue = f"ops-depth-{os.getpid()}"
    app.conf.broker_url = os.environ["REDIS_URL"]
    app.conf.task_default_queue = queue
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        batch = importing("samples_overlap_a.csv")
        jobs.enqueue(batch.pk)
        jobs.enqueue(batch.pk)  # no worker runs: both wait
        assert client.llen(queue) == 2
        assert _depths() == {("celery", queue): 2}
    finally:
        client.delete(queue)
        app.conf.task_default_queue = "celery"


def test_an_unreachable_broker_leaves_the_depth_out_without_breaking_the_scrape(settings, scrape):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert _depths() == {}
    text = scrape()
    assert "coffer_http_request_duration_seconds" in text and "coffer_job_queue_depth{" not in text


# --- several worker processes ---------------------------------------------------------------

_WORKER = """
from coffer.ops import metrics
metrics.observe_request(method="GET", route="/x", status=200, seconds=0.01, sql_count=2, sql_seconds=0.001)
"""
_SCRAPE = """
import os, django
django.setup()
from coffer.ops import metrics
body, _ = metrics.render()
print(body.decode())
"""


def test_with_a_multiprocess_directory_every_workers_samples_are_summed(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
           "DJANGO_SETTINGS_MODULE": "coffer.settings", "COFFER_VAR_DIR": str(tmp_path / "var")}
    (tmp_path / "prom").mkdir()
    for _ in range(2):  # two workers, each its own process
        subprocess.run([sys.executable, "-c", _WORKER], env=env, check=True, timeout=120)
    result = subprocess.run([sys.executable, "-c", _SCRAPE], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(text for text in result.stdout.splitlines()
                if text.startswith("coffer_http_request_duration_seconds_count") and 'route="/x"' in text)
    assert line.endswith(" 2.0")
    sql_sum = next(text for text in result.stdout.splitlines()
                   if text.startswith("coffer_http_request_sql_statements_sum") and 'route="/x"' in text)
    assert sql_sum.endswith(" 4.0")
    assert 'coffer_job_queue_depth{queue="imports",runner="in-process"} 0.0' in result.stdout
