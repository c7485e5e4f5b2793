"""/api/v1/auth/*: sign-up, sign-in tokens, refresh rotation, logout, and JWT checks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import jwt as pyjwt
import pytest
from django.conf import settings as django_settings

from coffer.api import jwt
from coffer.api.models import RefreshToken
from coffer.secrets import secret_hash
from coffer.tenancy.models import Membership, Tenant, User
from tests import factories

SIGNUP = "/api/v1/auth/signup"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
PROTECTED = "/api/v1/tokens"  # any endpoint that needs a signed-in session


def sign_in(client_api, email, password=factories.PASSWORD):
    return client_api.post(TOKEN, json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


def assert_unauthorized(response):
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


# --- sign-up --------------------------------------------------------------


def test_signing_up_creates_the_person_and_their_personal_space(client_api):
    response = client_api.post(SIGNUP, json={"email": "Carol@Example.TEST", "password": "a long enough passphrase", "name": "Carol"})
    assert response.status_code == 201, response.text
    body = response.json()
    user = User.objects.get()
    tenant = Tenant.objects.get()
    assert body == {
        "user": {"id": str(user.pk), "email": "carol@example.test", "name": "Carol"},
        "tenant": {"id": str(tenant.pk), "slug": tenant.slug, "name": "Carol", "kind": "personal"},
    }
    assert Membership.objects.get(user=user, tenant=tenant).role == "owner"
    assert "password" not in response.text and "passphrase" not in response.text
    assert sign_in(client_api, "carol@example.test", "a long enough passphrase").status_code == 200


def test_a_weak_password_is_a_422_naming_the_password_and_creates_nothing(client_api):
    response = client_api.post(SIGNUP, json={"email": "carol@example.test", "password": "12345678"})
    assert_problem(response, 422)
    assert [e["field"] for e in response.json()["errors"]] == ["password"]
    assert "too short" in response.json()["detail"]
    assert not User.objects.exists() and not Tenant.objects.exists()


def test_a_password_like_the_email_is_refused(client_api):
    response = client_api.post(SIGNUP, json={"email": "carolina.smith@example.test", "password": "carolina.smith"})
    assert_problem(response, 422)
    assert "similar" in response.json()["detail"]


def test_signing_up_with_a_registered_email_is_a_409_in_any_case(client_api, alice):
    response = client_api.post(SIGNUP, json={"email": "ALICE@example.test", "password": "another long passphrase"})
    assert_problem(response, 409)
    assert response.json()["errors"][0]["field"] == "email"
    assert User.objects.count() == 1
    assert User.objects.get().check_password(factories.PASSWORD)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email", "password": "a long enough passphrase"}, "email"),
        ({"password": "a long enough passphrase"}, "email"),
        ({"email": "carol@example.test"}, "password"),
        ({"email": "carol@example.test", "password": ""}, "password"),
        ({"email": "carol@example.test", "password": "x" * 1025}, "password"),
        ({"email": "carol@example.test", "password": "a long enough passphrase", "is_staff": True}, "is_staff"),
    ],
)
def test_bad_sign_up_input_is_a_422_naming_the_field(client_api, body, field):
    response = client_api.post(SIGNUP, json=body)
    assert_problem(response, 422)
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not User.objects.exists()


def test_a_password_keeps_its_surrounding_spaces(client_api):
    client_api.post(SIGNUP, json={"email": "carol@example.test", "password": "  spaced passphrase  "})
    assert sign_in(client_api, "carol@example.test", "  spaced passphrase  ").status_code == 200
    assert sign_in(client_api, "carol@example.test", "spaced passphrase").status_code == 401


# --- sign-in tokens -------------------------------------------------------


def test_email_and_password_give_an_access_and_a_refresh_token(client_api, alice):
    response = sign_in(client_api, " Alice@Example.test ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == django_settings.JWT_ACCESS_TTL_SECONDS
    assert body["refresh_expires_in"] == django_settings.JWT_REFRESH_TTL_SECONDS
    assert jwt.access_token_user_id(body["access_token"]) == alice.pk
    stored = RefreshToken.objects.get()
    assert stored.token_hash == secret_hash(body["refresh_token"]) and stored.user == alice
    assert client_api.get(PROTECTED, headers=bearer(body["access_token"])).status_code == 200


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(client_api, alice):
    wrong = sign_in(client_api, "alice@example.test", "not her password")
    unknown = sign_in(client_api, "nobody@example.test")
    for response in (wrong, unknown):
        assert_unauthorized(response)
        assert response.json()["detail"] == "Email or password is wrong"
    assert not RefreshToken.objects.exists()


def test_an_inactive_user_cannot_sign_in_refresh_or_use_an_old_access_token(client_api, alice):
    pair = sign_in(client_api, alice.email).json()
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert_unauthorized(sign_in(client_api, alice.email))
    assert sign_in(client_api, alice.email).json()["detail"] == "Email or password is wrong"
    assert_unauthorized(client_api.get(PROTECTED, headers=bearer(pair["access_token"])))
    assert_unauthorized(client_api.post(REFRESH, json={"refresh_token": pair["refresh_token"]}))


# --- refresh rotation -----------------------------------------------------


def test_refreshing_gives_a_new_pair_and_spends_the_old_refresh_token(client_api, alice):
    first = sign_in(client_api, alice.email).json()
    response = client_api.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["token_type"] == "bearer"
    assert client_api.get(PROTECTED, headers=bearer(second["access_token"])).status_code == 200
    old = RefreshToken.objects.get(token_hash=secret_hash(first["refresh_token"]))
    new = RefreshToken.objects.get(token_hash=secret_hash(second["refresh_token"]))
    assert old.used_at is not None and new.used_at is None
    assert old.family == new.family


def test_reusing_a_refresh_token_revokes_its_whole_family(client_api, alice):
    first = sign_in(client_api, alice.email).json()
    other_session = sign_in(client_api, alice.email).json()
    second = client_api.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json()

    reuse = client_api.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_unauthorized(reuse)

    # The newer token of the same family is dead too; the other sign-in is untouched.
    assert_unauthorized(client_api.post(REFRESH, json={"refresh_token": second["refresh_token"]}))
    assert client_api.post(REFRESH, json={"refresh_token": other_session["refresh_token"]}).status_code == 200
    family = RefreshToken.objects.get(token_hash=secret_hash(first["refresh_token"])).family
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()


def test_a_revoked_refresh_token_is_refused(client_api, alice):
    pair = sign_in(client_api, alice.email).json()
    RefreshToken.objects.update(revoked_at=dt.datetime.now(dt.UTC))
    assert_unauthorized(client_api.post(REFRESH, json={"refresh_token": pair["refresh_token"]}))


def test_an_expired_or_unknown_refresh_token_is_refused(client_api, alice):
    pair = sign_in(client_api, alice.email).json()
    RefreshToken.objects.update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert_unauthorized(client_api.post(REFRESH, json={"refresh_token": pair["refresh_token"]}))
    assert_unauthorized(client_api.post(REFRESH, json={"refresh_token": "cofr_made-up"}))
    # An access token is not a refresh token.
    assert_unauthorized(client_api.post(REFRESH, json={"refresh_token": pair["access_token"][:200]}))


def test_refresh_input_is_checked(client_api):
    assert_problem(client_api.post(REFRESH, json={}), 422)
    assert_problem(client_api.post(REFRESH, json={"refresh_token": "x", "extra": 1}), 422)


# --- logout ---------------------------------------------------------------


def test_logout_revokes_the_refresh_token_and_its_family(client_api, alice):
    first = sign_in(client_api, alice.email).json()
    second = client_api.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json()
    other_session = sign_in(client_api, alice.email).json()

    response = client_api.post(LOGOUT, json={"refresh_token": second["refresh_token"]})
    assert response.status_code == 204 and response.content == b""

    assert_unauthorized(client_api.post(REFRESH, json={"refresh_token": second["refresh_token"]}))
    assert client_api.post(REFRESH, json={"refresh_token": other_session["refresh_token"]}).status_code == 200


def test_logout_with_an_unknown_token_is_a_harmless_204(client_api, alice):
    pair = sign_in(client_api, alice.email).json()
    assert client_api.post(LOGOUT, json={"refresh_token": "cofr_unknown"}).status_code == 204
    assert not RefreshToken.objects.filter(revoked_at__isnull=False).exists()
    assert client_api.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 200


# --- throttling -----------------------------------------------------------


def test_too_many_failures_for_an_account_are_a_429_even_with_the_right_password(client_api, alice, bob):
    for _ in range(django_settings.LOGIN_FAILURES_PER_ACCOUNT):
        assert sign_in(client_api, alice.email, "wrong password").status_code == 401
    response = sign_in(client_api, alice.email)
    assert_problem(response, 429)
    assert 1 <= int(response.headers["retry-after"]) <= django_settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert "Too many failed sign-ins" in response.json()["detail"]
    assert not RefreshToken.objects.exists()
    # Another account from the same address is not locked by Alice's failures.
    assert sign_in(client_api, bob.email).status_code == 200


def test_a_successful_sign_in_resets_the_account_count(client_api, alice):
    limit = django_settings.LOGIN_FAILURES_PER_ACCOUNT
    for _ in range(limit - 1):
        sign_in(client_api, alice.email, "wrong password")
    assert sign_in(client_api, alice.email).status_code == 200
    for _ in range(limit - 1):
        assert sign_in(client_api, alice.email, "wrong password").status_code == 401
    assert sign_in(client_api, alice.email).status_code == 200


def test_too_many_failures_from_one_address_are_a_429_for_every_account(client_api, alice):
    for n in range(django_settings.LOGIN_FAILURES_PER_ADDRESS):
        assert sign_in(client_api, f"guess{n}@example.test", "guess").status_code == 401
    response = sign_in(client_api, alice.email)
    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1


def test_sign_ins_are_allowed_again_once_the_window_has_passed(client_api, alice, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        sign_in(client_api, alice.email, "wrong password")
    assert sign_in(client_api, alice.email).status_code == 429
    time.sleep(2.1)
    assert sign_in(client_api, alice.email).status_code == 200


# --- access tokens (JWT) --------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(user, **overrides) -> dict:
    now = int(time.time())
    return {"sub": str(user.pk), "typ": "access", "iss": jwt.ISSUER, "aud": jwt.AUDIENCE,
            "iat": now, "exp": now + 600, **overrides}


def _bad_tokens(user) -> dict[str, str | None]:
    key = django_settings.JWT_SIGNING_KEY
    expired, _ = jwt.access_token_issue(user_id=user.pk, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    return {
        "wrong signature": pyjwt.encode(_claims(user), "some-other-key-of-sufficient-length!", algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user))}.",
        "expired": expired,
        "refresh typ": pyjwt.encode(_claims(user, typ="refresh"), key, algorithm="HS256"),
        "wrong audience": pyjwt.encode(_claims(user, aud="someone-else"), key, algorithm="HS256"),
        "unknown user": pyjwt.encode(_claims(user, sub="01900000-0000-7000-8000-000000000000"), key, algorithm="HS256"),
        "garbage": "this.is.garbage",
        "made-up api token": "cof_not-a-real-token",
    }


@pytest.mark.parametrize(
    "kind",
    ["wrong signature", "alg none", "expired", "refresh typ", "wrong audience", "unknown user", "garbage", "made-up api token"],
)
def test_a_bad_access_token_is_a_401_problem(client_api, alice, kind):
    token = _bad_tokens(alice)[kind]
    assert_unauthorized(client_api.get(PROTECTED, headers=bearer(token)))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic YWxpY2U6cHc="}])
def test_a_missing_bearer_token_is_a_401_problem(client_api, alice, headers):
    response = client_api.get(PROTECTED, headers=headers)
    assert_unauthorized(response)
    assert "Bearer" in response.json()["detail"]


def test_an_expired_access_token_says_so(client_api, alice):
    response = client_api.get(PROTECTED, headers=bearer(_bad_tokens(alice)["expired"]))
    assert "expired" in response.json()["detail"]
