"""/healthz says the process is up; /readyz checks the database, the cache and the broker."""

from __future__ import annotations

import threading

import pytest

from coffer.ops import health

BROKEN_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


def test_healthz_is_unchanged(client_api):
    response = client_api.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_the_cache(client_api, settings):
    settings.CELERY_BROKER_URL = ""
    response = client_api.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and "failed" not in body
    assert set(body["checks"]) == {"database", "cache"}  # no broker configured: not checked
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())
    assert response.headers["cache-control"] == "no-store"


def test_readyz_checks_a_configured_broker(client_api, settings):
    settings.CELERY_BROKER_URL = "memory://"
    body = client_api.get("/readyz").json()
    assert body["checks"]["broker"]["ok"] is True and body["status"] == "ok"


def test_an_unreachable_broker_makes_readyz_503_naming_it(client_api, settings):
    settings.CELERY_BROKER_URL = BROKEN_REDIS
    response = client_api.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failed"] == ["broker"]
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
    assert "127.0.0.1" not in response.text  # probes learn what failed, not where it lives


def test_an_unreachable_cache_makes_readyz_503_naming_it(client_api, settings):
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": BROKEN_REDIS}}
    response = client_api.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"] and body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["error"] == "ConnectionError"


def test_a_check_that_does_not_answer_in_time_fails_with_a_timeout(db, settings):
    settings.READYZ_TIMEOUT_MS = 50
    release = threading.Event()
    try:
        ready, report = health.readiness({"database": lambda: None, "stuck": lambda: release.wait(30)})
    finally:
        release.set()
    assert ready is False and report["failed"] == ["stuck"]
    assert report["checks"]["stuck"] == {"ok": False, "error": "no answer within 50 ms"}
    assert report["checks"]["database"]["ok"] is True


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_readyz_only_answers_reads(client_api, method):
    assert client_api.request(method, "/readyz").status_code in {404, 405}
