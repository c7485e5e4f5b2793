"""coffer.ops.concurrency: at most N requests in progress per process, the rest wait in order."""

import asyncio

from fastapi.testclient import TestClient

from coffer.asgi import application
from coffer.ops.concurrency import ConcurrencyLimit


def run_requests(limit: int, count: int, scope_type: str = "http"):
    in_progress, peak, order = 0, 0, []

    async def app(scope, receive, send):
        nonlocal in_progress, peak
        in_progress += 1
        peak = max(peak, in_progress)
        await asyncio.sleep(0.01)
        order.append(scope["n"])
        in_progress -= 1

    limited = ConcurrencyLimit(app, limit=lambda: limit)

    async def main():
        tasks = []
        for n in range(count):
            tasks.append(asyncio.create_task(limited({"type": scope_type, "n": n}, None, None)))
            await asyncio.sleep(0)  # arrive one after the other
        await asyncio.gather(*tasks)

    asyncio.run(main())
    return peak, order


def test_no_more_than_the_limit_run_at_once_and_every_request_is_served_in_arrival_order():
    peak, order = run_requests(limit=3, count=12)
    assert peak == 3
    assert order == list(range(12))


def test_lifespan_and_other_scopes_are_not_queued():
    peak, order = run_requests(limit=1, count=5, scope_type="lifespan")
    assert peak == 5 and sorted(order) == list(range(5))


def test_the_limit_works_again_in_a_new_event_loop():
    assert run_requests(limit=2, count=6)[0] == 2
    assert run_requests(limit=2, count=6)[0] == 2


def test_the_whole_application_serves_requests_through_the_limit(settings, transactional_db):
    settings.REQUEST_CONCURRENCY = 1
    with TestClient(application, base_url="http://testserver") as client:
        assert client.get("/api/v1/me").status_code == 401
        assert client.get("/healthz").status_code == 200
        assert client.get("/accounts/login/").status_code == 200
