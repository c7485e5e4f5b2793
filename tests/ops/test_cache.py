"""One Redis pool per process: a request's thread reuses the connection an earlier one opened."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis cache")


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        # A client name of its own: the process's client for REDIS_URL itself is shared with every other test.
        "shared_test": {"BACKEND": "coffer.ops.cache.SharedPoolRedisCache", "LOCATION": os.environ["REDIS_URL"],
                        "KEY_PREFIX": "coffer-test-shared", "OPTIONS": {"client_name": f"test-{uuid.uuid4().hex}"}},
    }
    return "shared_test"


def _in_fresh_thread(alias, work):
    """What Django does under ASGI: a new thread, so a new cache object, for each request."""
    seen = {}

    def run():
        backend = caches[alias]
        seen["backend"] = backend
        seen["result"] = work(backend)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen


def test_fresh_threads_get_their_own_cache_object_but_share_one_connection(redis_cache):
    first = _in_fresh_thread(redis_cache, lambda cache: cache.set("k", "v", 30))
    later = [_in_fresh_thread(redis_cache, lambda cache: cache.get("k")) for _ in range(5)]

    assert all(seen["result"] == "v" for seen in later)
    assert len({id(seen["backend"]) for seen in [first, *later]}) == 6  # Django's per-thread objects
    assert len({id(seen["backend"]._cache) for seen in [first, *later]}) == 1
    pool = first["backend"]._cache._get_connection_pool(write=True)
    assert pool._created_connections == 1


def test_concurrent_threads_open_no_more_connections_than_they_use_at_once(redis_cache):
    barrier = threading.Barrier(4)
    results = []

    def run():
        backend = caches[redis_cache]
        barrier.wait()
        for _ in range(20):
            results.append(backend.get_or_set("shared", "x", 30))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["x"] * 80
    client = caches[redis_cache]._cache
    assert len(client._pools) == 1
    assert client._get_connection_pool(write=True)._created_connections <= 4
