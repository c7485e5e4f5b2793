"""The person's settings: profile (name, time zone, date and number format, honoured on every page),
password change, email confirmation, and personal access tokens (shown once, revocable)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from coffer.api.models import ApiToken
from coffer.audit.models import AuditEntry
from coffer.secrets import secret_hash
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import User
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

PAGES = ["/settings/", "/settings/password/", "/settings/tokens/"]


@pytest.mark.parametrize("path", PAGES)
def test_settings_pages_need_a_signed_in_person(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer", "outsider"])
def test_everyone_reaches_their_settings_from_the_user_menu(org, role):
    client = org.client(role)
    page = client.get(org.url() if role != "outsider" else "/", follow=True).content.decode()
    for path in ("/settings/", "/settings/tokens/"):
        assert f'href="{path}"' in page
    for path in PAGES:
        assert client.get(path).status_code == 200


# --- profile -----------------------------------------------------------------------


def test_the_profile_saves_name_time_zone_and_formats(org):
    person = org.people["member"]
    response = org.client("member").post("/settings/", {
        "name": "Mia Member", "time_zone": "Europe/Zurich", "date_format": "dmy", "number_format": "1.234,56"})

    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.name, person.time_zone, person.date_format, person.number_format) == (
        "Mia Member", "Europe/Zurich", "dmy", "1.234,56")
    entry = AuditEntry.objects.get(action="user.update", actor=person)
    assert entry.changes["number_format"] == ["1,234.56", "1.234,56"]


@pytest.mark.parametrize("field, value", [
    ("time_zone", "Mars/Olympus_Mons"), ("date_format", "ymd"), ("number_format", "1'234.56"),
])
def test_a_bad_profile_value_is_shown_next_to_its_field_and_nothing_changes(org, field, value):
    data = {"name": "Changed", "time_zone": "UTC", "date_format": "iso", "number_format": "1,234.56", field: value}
    response = org.client("member").post("/settings/", data)

    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    assert f'id="id_{field}_error"' in response.content.decode()
    person = User.objects.get(pk=org.people["member"].pk)
    assert person.name == "Member" and person.time_zone == "UTC"


@pytest.mark.parametrize("number_format, date_format, amount, day", [
    ("1,234.56", "iso", "-1,234.50", "2024-01-31"),
    ("1.234,56", "dmy", "-1.234,50", "31/01/2024"),
    ("1 234,56", "mdy", "-1\u00a0234,50", "01/31/2024"),
])
def test_every_page_shows_amounts_and_dates_the_way_the_person_chose(org, number_format, date_format, amount, day):
    account = factories.account(org.tenant, name="Current", opening_balance="0")
    factories.transaction(account, amount="-1234.50", booked_on=dt.date(2024, 1, 31), description="Rent")
    tenancy_services.user_update(user=org.people["viewer"], changes={"number_format": number_format,
                                                                      "date_format": date_format})
    client = org.client("viewer")

    transactions = client.get(org.url("transactions/")).content.decode()
    assert f"{amount} <span class=\"cur\">EUR</span>" in transactions and f">{day}</td>" in transactions
    accounts = client.get(org.url("accounts/")).content.decode()
    assert f"{amount} <span class=\"cur\">EUR</span>" in accounts
    # Another person keeps their own (default) formats.
    assert "-1,234.50" in org.client("member").get(org.url("transactions/")).content.decode()


def test_times_are_shown_in_the_persons_time_zone(org):
    tenancy_services.user_update(user=org.people["owner"], changes={"time_zone": "America/New_York"})
    AuditEntry.objects.create(tenant=org.tenant, actor=org.people["owner"], action="clock.check", object_type="x",
                              object_id="1", created_at=dt.datetime(2024, 7, 1, 3, 15, tzinfo=dt.timezone.utc))

    page = org.client("owner").get(org.url("audit/?action=clock.check")).content.decode()

    assert "2024-06-30 23:15" in page  # 03:15 UTC is the evening before in New York (EDT)


# --- password ----------------------------------------------------------------------


def _password_form(current=factories.PASSWORD, new="a-brand-new-passphrase", again=None):
    return {"current_password": current, "new_password": new, "new_password_again": again if again is not None else new}


def test_changing_the_password_keeps_this_session_and_ends_the_others(org):
    person = org.people["member"]
    here, elsewhere = org.client("member"), org.client("member")

    response = here.post("/settings/password/", _password_form())

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("a-brand-new-passphrase")
    assert here.get("/settings/").status_code == 200
    assert elsewhere.get("/settings/").status_code == 302  # signed out
    assert AuditEntry.objects.filter(action="user.password_change", actor=person).count() == 1


@pytest.mark.parametrize("data, field, message", [
    (_password_form(current="not-my-password"), "current_password", "This is not your current password."),
    (_password_form(again="something-else-entirely"), "new_password_again", "The two new passwords differ."),
    (_password_form(new="short"), "new_password", "This password is too short. It must contain at least 10 characters."),
    (_password_form(current=""), "current_password", "This field is required."),
])
def test_a_refused_password_change_says_why_next_to_the_field_and_changes_nothing(org, data, field, message):
    response = org.client("member").post("/settings/password/", data)

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"' in response.content.decode()
    person = User.objects.get(pk=org.people["member"].pk)
    assert person.check_password(factories.PASSWORD)
    assert not AuditEntry.objects.filter(action="user.password_change").exists()


# --- email confirmation ---------------------------------------------------------------


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email\?token=\S+)", message.body).group(1)


def test_sign_up_sends_a_confirmation_link_and_a_banner_shows_until_it_is_opened(client, db, mailoutbox):
    response = client.post("/accounts/signup/", {"name": "Cleo", "email": "cleo@example.test",
                                                  "password": "a-long-enough-passphrase"}, follow=True)
    assert 'data-testid="confirm-email-banner"' in response.content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["cleo@example.test"]

    confirmed = client.get(_link(mailoutbox[0]), follow=True)

    assert "cleo@example.test is confirmed" in confirmed.content.decode()
    assert 'data-testid="confirm-email-banner"' not in confirmed.content.decode()
    assert User.objects.get(email="cleo@example.test").email_confirmed_at is not None


def test_the_link_works_signed_out_too_and_twice_changes_nothing(client, db):
    person = factories.user("dana@example.test")
    token = tenancy_services.email_confirmation_token(user=person)

    first = client.get(f"/accounts/confirm-email?token={token}")
    assert first.status_code == 200 and "dana@example.test" in first.content.decode()
    person.refresh_from_db()
    stamp = person.email_confirmed_at
    assert stamp is not None
    assert client.get(f"/accounts/confirm-email?token={token}").status_code == 200
    person.refresh_from_db()
    assert person.email_confirmed_at == stamp
    assert AuditEntry.objects.filter(action="user.email_confirm").count() == 1


def test_resending_sends_a_new_link_at_most_once_a_minute(org, mailoutbox):
    client = org.client("member")

    first = client.post("/accounts/confirm-email/resend/", {"next": org.url("accounts/")}, follow=True)
    assert first.redirect_chain[-1][0] == org.url("accounts/")
    assert "We sent a new confirmation link" in first.content.decode()
    again = client.post("/accounts/confirm-email/resend/", follow=True)
    assert "less than a minute ago" in again.content.decode()
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "javascript:alert(1)"])
def test_resend_does_not_redirect_to_another_site(org, target):
    response = org.client("member").post("/accounts/confirm-email/resend/", {"next": target})
    assert response["Location"] == "/settings/"


@pytest.mark.parametrize("case, status, message", [
    ("tampered", 404, "This confirmation link is not valid"),
    ("expired", 410, "This confirmation link has expired"),
    ("other-email", 404, "This confirmation link is not valid"),
])
def test_a_bad_confirmation_link_is_a_clear_message_and_confirms_nothing(client, db, case, status, message):
    person = factories.user("eve@example.test")
    token = tenancy_services.email_confirmation_token(user=person)
    if case == "tampered":
        token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    elif case == "expired":
        token = _expired_token(person)
    else:
        User.objects.filter(pk=person.pk).update(email="eve.new@example.test")

    response = client.get(f"/accounts/confirm-email?token={token}")

    assert response.status_code == status and message in response.content.decode()
    person.refresh_from_db()
    assert person.email_confirmed_at is None


def _expired_token(person) -> str:
    """A token signed four days ago (the link works for three)."""
    import time
    from unittest import mock

    with mock.patch.object(time, "time", return_value=time.time() - 4 * 24 * 3600):
        return tenancy_services.email_confirmation_token(user=person)


# --- personal access tokens -------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(org):
    client = org.client("viewer")

    response = client.post("/settings/tokens/", {"name": "Sheet sync", "tenant": org.tenant.slug, "scope": "read",
                                                  "expires_in_days": "90"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.startswith("cof_") and f'value="{secret}"' in response.content.decode()
    token = ApiToken.objects.get(user=org.people["viewer"])
    assert token.token_hash == secret_hash(secret) and token.tenant == org.tenant and token.scope == "read"
    assert token.expires_at is not None
    listed = client.get("/settings/tokens/").content.decode()
    assert "Sheet sync" in listed and secret not in listed and token.prefix in listed


@pytest.mark.parametrize("data, field", [
    ({"name": "", "scope": "read"}, "name"),
    ({"name": "X", "scope": "admin"}, "scope"),
    ({"name": "X", "scope": "read", "tenant": "elsewhere"}, "tenant"),
    ({"name": "X", "scope": "read", "expires_in_days": "7"}, "expires_in_days"),
])
def test_bad_token_input_is_shown_next_to_the_field_and_creates_nothing(org, data, field):
    factories.organization(org.people["outsider"], name="Elsewhere", slug="elsewhere")
    response = org.client("member").post("/settings/tokens/", {"tenant": org.tenant.slug, **data})

    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert response.context["secret"] is None
    assert not ApiToken.objects.exists()


def test_a_token_is_revoked_and_another_persons_token_is_404_and_untouched(org):
    mine, _ = _token(org, "member")
    theirs, _ = _token(org, "admin")
    client = org.client("member")

    assert client.post(f"/settings/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post("/settings/tokens/not-a-uuid/revoke/").status_code == 404
    assert client.get(f"/settings/tokens/{mine.pk}/revoke/").status_code == 405
    assert client.post(f"/settings/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert "Token of member" not in client.get("/settings/tokens/").content.decode()


def _token(org, who: str, name: str | None = None):
    from coffer.api import services as api_services

    return api_services.pat_create(user=org.people[who], tenant_ref=org.tenant.slug, name=name or f"Token of {who}",
                                   scope="read")


def test_the_tokens_page_runs_bounded_queries_for_2_or_70_tokens_and_pages_the_rest(org):
    client = org.client("owner")

    def fetch(url, **headers):
        with count_queries() as queries:
            response = client.get(url, **headers)
        return response, len(queries)

    for i in range(2):
        _token(org, "owner", f"t{i}")
    _, few = fetch("/settings/tokens/")
    for i in range(2, 70):
        _token(org, "owner", f"t{i}")
    first, many = fetch("/settings/tokens/")
    assert many == few <= 6
    assert len(first.context["tokens"]) == 50
    second, _ = fetch(first.context["more_url"], HTTP_HX_REQUEST="true")
    assert second.templates[0].name == "web/settings/partials/token_rows.html"
    assert len(second.context["tokens"]) == 20 and second.context["more_url"] is None


def test_another_persons_session_never_sees_my_tokens(org):
    _token(org, "owner", "Owner secret sync")
    other = Client()
    other.force_login(org.people["admin"])
    assert "Owner secret sync" not in other.get("/settings/tokens/").content.decode()
