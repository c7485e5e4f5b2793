"""Count SQL statements run by *any* thread, including FastAPI's worker threads.

Django's CaptureQueriesContext only sees the test thread's connection; API routes run
in thread-pool threads with their own connections. We hook every connection as it is
established (`connection_created`) with one pass-through execute wrapper that reports
to whichever counter is active.
"""

from __future__ import annotations

import contextlib
import threading

from django.db import connections
from django.db.backends.signals import connection_created

_lock = threading.Lock()
_active: list[list[str]] = []


def _record(execute, sql, params, many, context):
    with _lock:
        for sink in _active:
            sink.append(sql)
    return execute(sql, params, many, context)


def _hook(connection) -> None:
    if _record not in connection.execute_wrappers:
        connection.execute_wrappers.append(_record)


def _on_connection_created(sender, connection, **kwargs) -> None:
    _hook(connection)


connection_created.connect(_on_connection_created, dispatch_uid="tests.querycount")


@contextlib.contextmanager
def count_queries():
    """`with count_queries() as queries: ...; len(queries)` — every statement, every thread."""
    for connection in connections.all():
        _hook(connection)
    sink: list[str] = []
    with _lock:
        _active.append(sink)
    try:
        yield sink
    finally:
        with _lock:
            _active.remove(sink)
