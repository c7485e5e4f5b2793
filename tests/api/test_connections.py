"""Under ASGI, Django never closes the connections FastAPI's worker threads open.
Coffer closes them in the thread that used them (coffer.api.db.db_bound); these tests
show the number of open connections stays bounded under concurrent load."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection as test_connection
from django.db import connections
from django.db.backends.signals import connection_created

from tests import factories

REQUESTS = 240
CONCURRENCY = 24


@pytest.fixture
def opened_connections():
    """Every DatabaseWrapper that opened a connection while the test ran, from any thread."""
    opened: list = []
    lock = threading.Lock()

    def record(sender, connection, **kwargs):
        with lock:
            opened.append(connection)

    connection_created.connect(record, dispatch_uid="test_connections")
    yield opened
    connection_created.disconnect(dispatch_uid="test_connections")


def _hammer(url: str, headers: dict[str, str]) -> list[int]:
    with httpx.Client(timeout=30, headers=headers) as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(lambda _: client.get(url).status_code, range(REQUESTS)))


def test_concurrent_api_requests_leave_no_connection_open(live_server_url, alice, opened_connections):
    tenant = factories.organization(alice, slug="busy")
    factories.account(tenant, name="Main")
    url = f"{live_server_url}/api/v1/tenants/{tenant.slug}/accounts"

    statuses = _hammer(url, factories.auth_headers(alice))

    assert statuses == [200] * REQUESTS
    test_thread_wrapper = connections["default"]
    served_by_workers = [c for c in opened_connections if c is not test_thread_wrapper]
    assert served_by_workers, "the requests should have opened connections in worker threads"
    still_open = [c for c in served_by_workers if c.connection is not None]
    assert still_open == []


@pytest.mark.skipif(test_connection.vendor != "postgresql", reason="pg_stat_activity is PostgreSQL's view")
def test_postgres_sees_a_bounded_number_of_backends_under_load(live_server_url, alice, settings):
    tenant = factories.organization(alice, slug="busy-pg")
    factories.account(tenant, name="Main")
    url = f"{live_server_url}/api/v1/tenants/{tenant.slug}/accounts"
    peak = 0
    stop = threading.Event()

    def watch():
        nonlocal peak
        import psycopg

        params = test_connection.get_connection_params()
        params.pop("cursor_factory", None)
        with psycopg.connect(**{k: v for k, v in params.items() if k in {"dbname", "user", "host", "port", "password"}}) as watcher:
            while not stop.is_set():
                (count,) = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                peak = max(peak, count)
                stop.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        statuses = _hammer(url, factories.auth_headers(alice))
    finally:
        stop.set()
        watcher.join()

    assert statuses == [200] * REQUESTS
    pool_size = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    # the pool's connections plus the test thread's own
    assert peak <= pool_size + 1
