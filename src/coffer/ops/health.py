"""Readiness: can this process serve? The database, the cache and (when configured) the broker.

Checks run side by side in a small pool of their own, each bounded by READYZ_TIMEOUT_MS; a
check that does not answer in time counts as failed (its thread is left to finish on its own,
and the pool's size bounds how many such threads a dead dependency can hold). The answer names
each check; errors are reported by kind only (no host names or URLs to whoever probes).
"""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=6, thread_name_prefix="coffer-readyz")


def check_database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this thread's connection (back to the pool on PostgreSQL)


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("the cache did not return what was just stored")
    finally:
        cache.delete(key)


def check_broker() -> None:
    import kombu

    timeout = settings.READYZ_TIMEOUT_MS / 1000
    with kombu.Connection(
        settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options={"socket_timeout": timeout}
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        conn.default_channel  # noqa: B018  (opening a channel is what proves the broker answers)


def checks() -> dict[str, Callable[[], None]]:
    found: dict[str, Callable[[], None]] = {"database": check_database, "cache": check_cache}
    if settings.CELERY_BROKER_URL:
        found["broker"] = check_broker
    return found


def _timed(check: Callable[[], None]) -> float:
    started = time.perf_counter()
    check()
    return (time.perf_counter() - started) * 1000


def readiness(checks_: dict[str, Callable[[], None]] | None = None) -> tuple[bool, dict]:
    """(ready, report) where report is {"status": ..., "checks": {name: {"ok": ..., ...}}, "failed": [...]}."""
    timeout = settings.READYZ_TIMEOUT_MS / 1000
    futures = {name: _pool.submit(_timed, check) for name, check in (checks_ or checks()).items()}
    concurrent.futures.wait(futures.values(), timeout=timeout)
    results: dict[str, dict] = {}
    for name, future in futures.items():
        if not future.done():
            future.cancel()  # still queued behind hung checks: never runs
            results[name] = {"ok": False, "error": f"no answer within {settings.READYZ_TIMEOUT_MS} ms"}
        elif (exc := future.exception()) is not None:
            results[name] = {"ok": False, "error": exc.__class__.__name__}
        else:
            results[name] = {"ok": True, "ms": round(future.result(), 1)}
    failed = [name for name, result in results.items() if not result["ok"]]
    report = {"status": "unavailable" if failed else "ok", "checks": results}
    if failed:
        report["failed"] = failed
    return not failed, report
