"""Memcached as the shared cache (MEMCACHED_URL): one pooled client per process, the per-tenant versions
and their bumps, sign-in failure counts, rate limits shared between processes, readiness.

CI runs this module, and the other cache-dependent ones, against a real memcached (.ci/run)."""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid

import pytest
from django.core.cache import caches

from coffer.ops import health, ratelimit, tenant_cache

MEMCACHED_URL = os.environ.get("MEMCACHED_URL", "")
pytestmark = pytest.mark.skipif(not MEMCACHED_URL, reason="needs MEMCACHED_URL: a real memcached")


def _config(location: str | list[str]) -> dict:
    return {"BACKEND": "coffer.ops.cache.SharedPoolMemcachedCache", "LOCATION": location,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"use_pooling": True, "no_delay": True, "connect_timeout": 0.5, "timeout": 0.5}}


@pytest.fixture
def memcached(settings):
    settings.CACHES = {"default": _config([part.strip() for part in MEMCACHED_URL.split(",")])}
    return caches["default"]


def _in_fresh_thread(work):
    seen = {}
    thread = threading.Thread(target=lambda: seen.update(backend=caches["default"], result=work(caches["default"])))
    thread.start()
    thread.join()
    return seen


def test_fresh_threads_share_one_pooled_client_that_outlives_each_request(memcached):
    from django.core.cache import close_caches

    first = _in_fresh_thread(lambda backend: backend.set("k", "v", 30))
    later = [_in_fresh_thread(lambda backend: (backend.get("k"), close_caches())[0]) for _ in range(4)]

    assert [seen["result"] for seen in later] == ["v"] * 4
    assert len({id(seen["backend"]) for seen in [first, *later]}) == 5  # Django's per-thread objects
    assert len({id(seen["backend"]._cache) for seen in [first, *later]}) == 1


def test_the_tenant_version_starts_fresh_bumps_by_one_and_a_write_shows_in_the_next_read(memcached, transactional_db):
    tenant_id = uuid.uuid4()
    start = tenant_cache.version(tenant_id)
    assert start > 10**18  # a nanosecond clock value, never a number used before
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    args = {"day": dt.date(2024, 3, 1)}
    assert tenant_cache.cached(tenant_id, "reports.cashflow", args, compute) == {"n": 1}
    assert tenant_cache.cached(tenant_id, "reports.cashflow", args, compute) == {"n": 1}  # a hit
    tenant_cache.bump(tenant_id)  # outside a transaction: at once
    assert tenant_cache.version(tenant_id) == start + 1
    assert tenant_cache.cached(tenant_id, "reports.cashflow", args, compute) == {"n": 2}


def test_sign_in_failures_are_counted_in_memcached(memcached, db):
    from coffer import errors
    from coffer.tenancy import signin
    from tests import factories

    factories.user("carol@example.test")
    for _ in range(5):
        with pytest.raises(errors.AuthenticationFailed):
            signin.sign_in(email="carol@example.test", password="wrong password!", address="192.0.2.7")
    with pytest.raises(errors.Throttled):
        signin.sign_in(email="carol@example.test", password="wrong password!", address="192.0.2.7")


def test_two_processes_share_rate_limit_counts_through_memcached():
    prefix = f"ops-test-{uuid.uuid4().hex}"
    first = ratelimit.Limiter(api="3/minute", anon="", memcached_url=MEMCACHED_URL, key_prefix=prefix)
    second = ratelimit.Limiter(api="3/minute", anon="", memcached_url=f"memcached://{MEMCACHED_URL}",
                               key_prefix=prefix)
    assert first.strategy.storage is not second.strategy.storage
    identity = ratelimit.Identity("user", str(uuid.uuid4()))
    assert [first.hit(identity), second.hit(identity), first.hit(identity)] == [None, None, None]
    assert second.hit(identity) is not None and first.hit(identity) is not None
    assert second.hit(ratelimit.Identity("user", str(uuid.uuid4()))) is None


def test_readiness_checks_memcached_and_names_it_when_it_is_gone(settings, db):
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = {"default": _config([part.strip() for part in MEMCACHED_URL.split(",")])}
    ready, report = health.readiness()
    assert ready is True and report["checks"]["cache"]["ok"] is True

    settings.CACHES = {"default": _config(["127.0.0.1:9"])}  # nothing listens on the discard port
    ready, report = health.readiness()
    assert ready is False and report["failed"] == ["cache"]
