from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests import factories


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
