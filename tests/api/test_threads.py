"""The API's sync routes and dependencies run on at most REQUEST_CONCURRENCY threads per process."""

import anyio.to_thread
from fastapi.testclient import TestClient

from coffer.asgi import application


def _limit(client: TestClient) -> float:
    return client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)


def test_the_thread_pool_is_sized_by_the_setting(settings, transactional_db):
    for threads in (3, 8):
        settings.REQUEST_CONCURRENCY = threads
        with TestClient(application, base_url="http://testserver") as client:
            assert _limit(client) == threads
            assert client.get("/api/v1/me").status_code == 401  # and requests still run
