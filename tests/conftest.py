from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests import factories


_STATIC_TABLES = {"django_content_type", "auth_permission"}  # written by migrations alone, read-only in tests


@pytest.fixture(scope="session", autouse=True)
def _empty_tables_quickly_between_transactional_tests():
    """After each transactional test (~1,200 of them) Django empties every table, then re-creates the
    content types and permissions through the post_migrate signal. On PostgreSQL its one TRUNCATE costs
    ~0.2 s however few rows there are (each table gets a new file), and re-creating the permissions as
    much again. Here the rows a test wrote are DELETEd instead, with the foreign-key triggers off for
    that transaction (every table is emptied, so nothing is left dangling; checking each deleted row's
    references at commit cost as much as the TRUNCATE), and the content types and permissions the
    migrations made are kept, so there is nothing for post_migrate to put back. Only for this session;
    the test database's role is a superuser, as `createdb` on CI needs anyway."""
    from django.core.management.commands import flush
    from django.db.backends.postgresql import base as _postgresql  # noqa: F401  (loads its operations)
    from django.db.backends.postgresql.operations import DatabaseOperations as PostgreSQLOperations
    from django.db.backends.sqlite3 import base as _sqlite  # noqa: F401
    from django.db.backends.sqlite3.operations import DatabaseOperations as SQLiteOperations

    truncate = PostgreSQLOperations.sql_flush
    sqlite_flush = SQLiteOperations.sql_flush

    def postgresql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        tables = [table for table in tables if table not in _STATIC_TABLES]
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica", *(
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables
        )]

    def sqlite_keeping_static_tables(self, style, tables, **kwargs):
        return sqlite_flush(self, style, [table for table in tables if table not in _STATIC_TABLES], **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PostgreSQLOperations, "sql_flush", postgresql_flush)
        patch.setattr(SQLiteOperations, "sql_flush", sqlite_keeping_static_tables)
        patch.setattr(flush, "emit_post_migrate_signal", lambda *args, **kwargs: None)
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is the production hasher (asserted in tests/tenancy); tests sign in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from coffer.ops import ratelimit

    cache.clear()
    ratelimit.reset()  # API rate-limit counts kept in memory when there is no Redis
    yield
    cache.clear()


@pytest.fixture
def client_api(transactional_db):
    """The whole ASGI process (FastAPI + Django + gzip). Routes run in worker threads with
    their own connections, so API tests need committed data: hence transactional_db."""
    from coffer.asgi import application

    with TestClient(application, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def alice(transactional_db):
    return factories.user("alice@example.test", name="Alice")


@pytest.fixture
def bob(transactional_db):
    return factories.user("bob@example.test", name="Bob")


@pytest.fixture
def live_server_url(transactional_db):
    """A real uvicorn serving coffer.asgi in a background thread of this process (so it
    uses the test database), on a free port of 127.0.0.1."""
    import socket
    import threading
    import time

    import uvicorn

    from coffer.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
