"""API rate limits per personal access token, per user and per client address: 429 with Retry-After."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from coffer.api import services as api_services
from coffer.ops import ratelimit
from coffer.tenancy.models import Tenant
from tests import factories
from tests.ops.conftest import sample


@pytest.fixture
def limits(settings):
    def configure(*, api: str = "", anon: str = "") -> None:
        settings.RATE_LIMIT_API = api  # the process's limiter is rebuilt from the new settings
        settings.RATE_LIMIT_ANON = anon

    return configure


def _assert_throttled(response, *, window: int = 60) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= window
    body = response.json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests"
    assert "Try again in" in body["detail"] and body["instance"]
    assert response.headers["x-request-id"]


def test_anonymous_calls_are_limited_per_address(client_api, limits):
    limits(anon="3/minute", api="100/minute")
    before = sample("coffer_rate_limited_requests_total", scope="address")
    statuses = [client_api.get("/api/v1/me").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    _assert_throttled(client_api.get("/api/v1/me"))
    _assert_throttled(client_api.post("/api/v1/auth/token", json={"email": "a@b.test", "password": "x" * 12}))
    assert sample("coffer_rate_limited_requests_total", scope="address") == before + 2


def test_a_bad_or_expired_token_counts_against_the_address(client_api, limits, owner):
    limits(anon="2/minute", api="100/minute")
    client_api.get("/api/v1/me", headers={"Authorization": "Bearer not-a-jwt"})
    client_api.get("/api/v1/me", headers={"Authorization": "Bearer " + "x" * 40})
    _assert_throttled(client_api.get("/api/v1/me"))
    assert client_api.get("/api/v1/me", headers=factories.auth_headers(owner)).status_code == 200  # own budget


def test_each_user_has_a_budget_of_their_own(client_api, limits, owner):
    limits(api="3/minute", anon="100/minute")
    other = factories.user()
    mine, theirs = factories.auth_headers(owner), factories.auth_headers(other)
    assert [client_api.get("/api/v1/me", headers=mine).status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(client_api.get("/api/v1/me", headers=mine))
    _assert_throttled(client_api.get("/api/v1/me", headers=factories.auth_headers(owner)))  # a new JWT: same user
    assert client_api.get("/api/v1/me", headers=theirs).status_code == 200
    assert client_api.get("/api/v1/me").status_code == 401  # anonymous callers are not this user


def test_each_personal_access_token_has_a_budget_of_its_own(client_api, limits, owner, tenant):
    limits(api="2/minute", anon="100/minute")
    _, first = api_services.pat_create(user=owner, tenant_ref=tenant.slug, name="one", scope="read")
    _, second = api_services.pat_create(user=owner, tenant_ref=tenant.slug, name="two", scope="read")
    url = f"/api/v1/tenants/{tenant.slug}/accounts"
    before = sample("coffer_rate_limited_requests_total", scope="token")
    for _ in range(2):
        assert client_api.get(url, headers={"Authorization": f"Bearer {first}"}).status_code == 200
    _assert_throttled(client_api.get(url, headers={"Authorization": f"Bearer {first}"}))
    assert client_api.get(url, headers={"Authorization": f"Bearer {second}"}).status_code == 200
    assert sample("coffer_rate_limited_requests_total", scope="token") == before + 1


def test_a_throttled_write_changes_nothing(client_api, limits, owner, tenant):
    limits(api="1/minute", anon="100/minute")
    headers = factories.auth_headers(owner)
    url = f"/api/v1/tenants/{tenant.slug}"
    assert client_api.get("/api/v1/me", headers=headers).status_code == 200
    _assert_throttled(client_api.patch(url, headers=headers, json={"name": "Renamed"}))
    assert Tenant.objects.get(pk=tenant.pk).name != "Renamed"


def test_web_pages_are_not_limited_by_the_api_limits(client_api, limits):
    limits(anon="1/minute", api="1/minute")
    assert [client_api.get("/accounts/login/").status_code for _ in range(3)] == [200, 200, 200]
    assert client_api.get("/healthz").status_code == 200


def test_empty_limits_mean_no_limit(client_api, limits):
    limits(anon="", api="")
    assert {client_api.get("/api/v1/me").status_code for _ in range(30)} == {401}


@pytest.mark.parametrize("value", ["abc", "10/fortnight", "/minute", "ten per second"])
def test_a_malformed_limit_is_refused_with_the_setting_named(value):
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_ANON"):
        ratelimit.Limiter(api="10/minute", anon=value)
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_API"):
        ratelimit.Limiter(api=value, anon="10/minute")


def test_retry_after_counts_down_within_the_window():
    limiter = ratelimit.Limiter(api="1/hour", anon="")
    identity = ratelimit.Identity("user", str(uuid.uuid4()))
    assert limiter.hit(identity) is None
    wait = limiter.hit(identity)
    assert wait is not None and 1 <= wait <= 3600


def test_an_unreachable_limit_store_lets_requests_through_and_says_so(caplog):
    limiter = ratelimit.Limiter(api="1/minute", anon="1/minute", redis_url="redis://127.0.0.1:1/0")
    identity = ratelimit.Identity("address", "203.0.113.9")
    with caplog.at_level(logging.WARNING, logger="coffer.ops.ratelimit"):
        assert [limiter.hit(identity) for _ in range(3)] == [None, None, None]
    assert [r.getMessage() for r in caplog.records if r.name == "coffer.ops.ratelimit"] == [
        "rate limits not enforced: storage unavailable (ConnectionError)"
    ]  # once, not once per request


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: counts shared through Redis")
def test_two_processes_share_the_counts_through_redis():
    # Two limiters with their own Redis connections stand for two worker processes.
    url = os.environ["REDIS_URL"]
    prefix = f"ops-test-{uuid.uuid4().hex}"
    first = ratelimit.Limiter(api="3/minute", anon="", redis_url=url, key_prefix=prefix)
    second = ratelimit.Limiter(api="3/minute", anon="", redis_url=url, key_prefix=prefix)
    assert first.strategy.storage is not second.strategy.storage
    identity = ratelimit.Identity("user", str(uuid.uuid4()))
    assert [first.hit(identity), second.hit(identity), first.hit(identity)] == [None, None, None]
    assert second.hit(identity) is not None and first.hit(identity) is not None
    assert second.hit(ratelimit.Identity("user", str(uuid.uuid4()))) is None
