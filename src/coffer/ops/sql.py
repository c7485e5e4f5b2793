"""SQL statements counted and timed for the request (or job) in hand; slow ones logged.

Every database connection gets one execute wrapper as it connects (Django's `connection_created`
signal; connections are per thread, so this covers Django views, FastAPI's worker threads and the
import job threads alike). The wrapper adds each statement's time to the current
`RequestContext`, and logs statements slower than SLOW_SQL_MS (0 turns that off) with the
request id and tenant the log filter adds. Parameters are never logged: they hold people's data.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created

from coffer.ops import context

logger = logging.getLogger("coffer.sql.slow")

SQL_LOG_CHARS = 2000


def observe(execute, sql, params, many, ctx):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, ctx)
    finally:
        elapsed = time.perf_counter() - started
        current = context.current()
        if current is not None:
            current.add_sql(elapsed)
        threshold = settings.SLOW_SQL_MS
        if threshold > 0 and elapsed * 1000 >= threshold:
            text = (sql if isinstance(sql, str) else str(sql))[:SQL_LOG_CHARS]
            logger.warning(
                "slow SQL statement (%.1f ms%s): %s", elapsed * 1000, ", executemany" if many else "", text,
                extra={"duration_ms": round(elapsed * 1000, 1), "sql": text},
            )


def hook(connection) -> None:
    if observe not in connection.execute_wrappers:
        connection.execute_wrappers.append(observe)


def _on_connection_created(sender, connection, **kwargs) -> None:
    hook(connection)


def install() -> None:
    """Called once from the ops app's ready()."""
    connection_created.connect(_on_connection_created, dispatch_uid="coffer.ops.sql")
    for connection in connections.all(initialized_only=True):
        hook(connection)
