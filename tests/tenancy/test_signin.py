"""Signing in (coffer.tenancy.signin) and the web login page that uses it."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth import hashers

from coffer import errors
from coffer.tenancy import hashers as coffer_hashers
from coffer.tenancy import signin
from coffer.tenancy.models import User
from tests import factories

ADDRESS = "203.0.113.7"
LOGIN = "/accounts/login/"


class CountingHasher(hashers.MD5PasswordHasher):
    """MD5 that counts how often a password is hashed (to see the work done, not the time)."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def attempt(email, password=factories.PASSWORD, address=ADDRESS):
    return signin.sign_in(email=email, password=password, address=address)


def test_production_hashes_passwords_with_argon2id_at_owasp_cost():
    production = importlib.import_module("coffer.settings")
    assert production.PASSWORD_HASHERS[0] == "coffer.tenancy.hashers.Argon2Hasher"
    hasher = coffer_hashers.Argon2Hasher()
    encoded = hasher.encode("a long enough password", hasher.salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_process_hashes_at_most_password_hash_concurrency_passwords_at_once(monkeypatch, settings):
    import threading

    import argon2

    assert settings.PASSWORD_HASH_CONCURRENCY == 2
    inside, most, lock = 0, 0, threading.Lock()
    real_hash, real_verify = argon2.PasswordHasher.hash, argon2.PasswordHasher.verify

    def observed(real):
        def run(self, *args, **kwargs):
            nonlocal inside, most
            with lock:
                inside += 1
                most = max(most, inside)
            try:
                return real(self, *args, **kwargs)
            finally:
                with lock:
                    inside -= 1
        return run

    monkeypatch.setattr(argon2.PasswordHasher, "hash", observed(real_hash))
    monkeypatch.setattr(argon2.PasswordHasher, "verify", observed(real_verify))
    hasher = coffer_hashers.Argon2Hasher()
    encoded = hasher.encode("a long enough password", hasher.salt())
    results = []
    start = threading.Barrier(6)

    def sign_in_and_set():
        start.wait()
        results.append(hasher.verify("a long enough password", encoded))
        results.append(hasher.encode("another password", hasher.salt()).startswith("argon2$"))

    threads = [threading.Thread(target=sign_in_and_set) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [True] * 12
    assert most == 2


def test_a_hash_made_with_djangos_default_argon2_cost_still_signs_in_and_is_upgraded(alice, settings):
    settings.PASSWORD_HASHERS = ["coffer.tenancy.hashers.Argon2Hasher"]
    old = hashers.Argon2PasswordHasher()
    alice.password = old.encode(factories.PASSWORD, old.salt())
    alice.save(update_fields=["password"])
    assert "m=102400" in alice.password
    assert attempt("alice@example.test") == alice
    alice.refresh_from_db()
    assert "m=19456,t=2,p=1" in alice.password
    assert attempt("alice@example.test") == alice


# --- the service ----------------------------------------------------------


def test_the_right_email_and_password_give_the_user(alice):
    assert attempt("  ALICE@example.test ") == alice


@pytest.mark.parametrize("email, password", [("alice@example.test", "wrong password"), ("nobody@example.test", factories.PASSWORD)])
def test_a_wrong_password_and_an_unknown_email_fail_alike(alice, email, password):
    with pytest.raises(errors.AuthenticationFailed) as exc:
        attempt(email, password)
    assert exc.value.message == "Email or password is wrong"


def test_an_unknown_email_costs_a_password_hash_like_a_wrong_password(alice, settings):
    settings.PASSWORD_HASHERS = ["tests.tenancy.test_signin.CountingHasher"]
    work = {}
    for email in ("alice@example.test", "nobody@example.test"):
        CountingHasher.calls = 0
        with pytest.raises(errors.AuthenticationFailed):
            attempt(email, "wrong password")
        work[email] = CountingHasher.calls
    assert work["nobody@example.test"] == 1
    assert work["alice@example.test"] >= 1


def test_an_inactive_person_cannot_sign_in(alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    with pytest.raises(errors.AuthenticationFailed) as exc:
        attempt(alice.email)
    assert exc.value.message == "Email or password is wrong"


def test_after_too_many_failures_the_account_is_throttled_even_with_the_right_password(alice, bob, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        with pytest.raises(errors.AuthenticationFailed):
            attempt(alice.email, "wrong password")
    with pytest.raises(errors.Throttled) as exc:
        attempt(alice.email)
    assert 1 <= exc.value.retry_after <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    # The same account from another address is throttled too; another account is not.
    with pytest.raises(errors.Throttled):
        attempt(alice.email, address="198.51.100.1")
    assert attempt(bob.email) == bob


def test_unknown_emails_are_throttled_like_known_ones(settings, transactional_db):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        with pytest.raises(errors.AuthenticationFailed):
            attempt("nobody@example.test")
    with pytest.raises(errors.Throttled):
        attempt("nobody@example.test")


def test_a_success_resets_the_account_count_but_not_the_address_count(alice, bob, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        with pytest.raises(errors.AuthenticationFailed):
            attempt(alice.email, "wrong password")
    assert attempt(alice.email) == alice
    with pytest.raises(errors.AuthenticationFailed):
        attempt(alice.email, "wrong password")  # 1 of 5 for the account, 5 of 6 for the address
    with pytest.raises(errors.AuthenticationFailed):
        attempt(bob.email, "wrong password")  # 6 of 6 for the address
    with pytest.raises(errors.Throttled):
        attempt(alice.email)
    assert attempt(alice.email, address="198.51.100.1") == alice


def test_one_address_guessing_many_accounts_is_throttled(alice, settings):
    for n in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        with pytest.raises(errors.AuthenticationFailed):
            attempt(f"guess{n}@example.test", "guess")
    with pytest.raises(errors.Throttled):
        attempt(alice.email)
    assert attempt(alice.email, address="198.51.100.1") == alice


# --- the web login page ---------------------------------------------------


def test_the_login_page_signs_a_person_in(client, alice):
    assert client.get(LOGIN).status_code == 200
    response = client.post(LOGIN, {"username": "Alice@Example.test", "password": factories.PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    home = client.get("/", follow=True)
    assert home.status_code == 200 and home.redirect_chain[-1][0] == "/t/alice/"


@pytest.mark.parametrize("email", ["alice@example.test", "nobody@example.test"])
def test_the_login_page_refuses_a_wrong_password_or_unknown_email_with_one_message(client, alice, email):
    response = client.post(LOGIN, {"username": email, "password": "wrong password"})
    assert response.status_code == 200
    assert "Email or password is wrong" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_login_page_refuses_an_inactive_person(client, alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = client.post(LOGIN, {"username": alice.email, "password": factories.PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_failures_on_the_login_page_and_the_api_share_one_throttle(client, client_api, alice, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        client.post(LOGIN, {"username": alice.email, "password": "wrong password"})
    api = client_api.post("/api/v1/auth/token", json={"email": alice.email, "password": "wrong password"})
    assert api.status_code == 401

    page = client.post(LOGIN, {"username": alice.email, "password": factories.PASSWORD})
    assert page.status_code == 200
    assert "Too many failed sign-ins" in page.content.decode()
    assert "_auth_user_id" not in client.session
    assert client_api.post("/api/v1/auth/token", json={"email": alice.email, "password": factories.PASSWORD}).status_code == 429


# --- the admin's login ------------------------------------------------------

ADMIN_LOGIN = "/admin/login/"


def test_the_admin_login_lets_staff_in(client, alice):
    User.objects.filter(pk=alice.pk).update(is_staff=True, is_superuser=True)
    response = client.post(ADMIN_LOGIN, {"username": alice.email, "password": factories.PASSWORD,
                                         "next": "/admin/"})
    assert response.status_code == 302 and client.get("/admin/").status_code == 200


def test_the_admin_login_refuses_a_person_who_is_not_staff(client, alice):
    response = client.post(ADMIN_LOGIN, {"username": alice.email, "password": factories.PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "staff account" in response.content.decode()


def test_the_admin_login_shares_the_sign_in_throttle(client, alice, settings):
    User.objects.filter(pk=alice.pk).update(is_staff=True, is_superuser=True)
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        client.post(ADMIN_LOGIN, {"username": alice.email, "password": "wrong password"})
    response = client.post(ADMIN_LOGIN, {"username": alice.email, "password": factories.PASSWORD})
    assert response.status_code == 200 and "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
