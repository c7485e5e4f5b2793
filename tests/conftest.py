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

    cache.clear()
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
