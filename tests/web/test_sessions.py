"""Sessions live in the cache and in the database (cached_db): losing the cache signs nobody out."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache

from coffer.tenancy.models import Membership
from tests import factories


def test_sign_in_survives_a_cache_flush(client, transactional_db):
    person = factories.user("gina@example.test")
    slug = Membership.objects.get(user=person).tenant.slug
    signed_in = client.post("/accounts/login/", {"username": "gina@example.test", "password": factories.PASSWORD})
    assert signed_in.status_code == 302
    assert Session.objects.filter(session_key=client.session.session_key).exists()

    cache.clear()

    page = client.get(f"/t/{slug}/")
    assert page.status_code == 200
    assert page.wsgi_request.user == person


def test_signing_out_ends_the_session_in_the_cache_and_the_database(client, transactional_db):
    factories.user("hank@example.test")
    client.post("/accounts/login/", {"username": "hank@example.test", "password": factories.PASSWORD})
    key = client.session.session_key

    client.post("/accounts/logout/")
    cache.clear()

    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_sessions_are_cached_and_written_through_to_the_database():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
