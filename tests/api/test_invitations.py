"""Invitations through the API: invite (email sent), list, revoke, accept signed in, accept as a new person."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from coffer.audit.models import AuditEntry
from coffer.tenancy.models import Invitation, Membership, Tenant, User
from tests import factories
from tests.api.teams import make_team, state, tenant_url
from tests.querycount import count_queries

ACCEPT = "/api/v1/invitations/accept"
ACCEPT_NEW = "/api/v1/invitations/accept-new"


@pytest.fixture
def team(transactional_db, mailoutbox):
    team = make_team(name="Acme")
    mailoutbox.clear()  # the fixture's own invitation
    return team


def invite(client, team, email="New.Person@example.test", role="member", actor="admin"):
    return client.post(tenant_url(team["tenant"], "invitations"), headers=factories.auth_headers(team[actor]),
                       json={"email": email, "role": role})


def token_from(message) -> str:
    return re.search(r"[?&]token=([\w-]+)", message.body).group(1)


def test_an_admin_invites_by_email_and_the_link_is_mailed(client_api, team, mailoutbox, settings):
    settings.PUBLIC_BASE_URL = "https://money.example.test"
    response = invite(client_api, team, role="viewer")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["email"], body["role"], body["status"], body["invited_by"]["id"]) == (
        "new.person@example.test", "viewer", "open", str(team["admin"].pk)
    )
    assert "token" not in body
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@example.test"]
    token = token_from(mailoutbox[0])
    assert f"https://money.example.test/invitations/accept?token={token}" in mailoutbox[0].body
    assert Invitation.objects.get(pk=body["id"]).token_hash != token


def test_an_existing_person_accepts_signed_in(client_api, team, mailoutbox):
    person = factories.user("new.person@example.test", name="Nora")
    invite(client_api, team, role="member")
    response = client_api.post(ACCEPT, headers=factories.auth_headers(person), json={"token": token_from(mailoutbox[0])})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"] == {"id": str(person.pk), "email": person.email, "name": "Nora"}
    assert (body["tenant"]["id"], body["tenant"]["role"], body["tenant"]["name"]) == (str(team["tenant"].pk), "member", "Acme")
    assert Membership.objects.get(tenant=team["tenant"], user=person).role == "member"
    listed = client_api.get(tenant_url(team["tenant"], "invitations"), headers=factories.auth_headers(team["admin"])).json()
    assert [item["status"] for item in listed["items"] if item["email"] == person.email] == ["accepted"]


def test_accepting_needs_a_signed_in_person(client_api, team, mailoutbox):
    invite(client_api, team)
    assert client_api.post(ACCEPT, json={"token": token_from(mailoutbox[0])}).status_code == 401
    assert Invitation.objects.get(email="new.person@example.test").accepted_at is None


def test_an_invitation_for_someone_else_is_refused(client_api, team, mailoutbox, bob):
    invite(client_api, team)
    before = state(team["tenant"])
    response = client_api.post(ACCEPT, headers=factories.auth_headers(bob), json={"token": token_from(mailoutbox[0])})
    assert response.status_code == 403
    assert "another email address" in response.json()["detail"]
    assert state(team["tenant"]) == before


def test_a_used_invitation_is_refused(client_api, team, mailoutbox):
    person = factories.user("new.person@example.test")
    invite(client_api, team)
    token = token_from(mailoutbox[0])
    assert client_api.post(ACCEPT, headers=factories.auth_headers(person), json={"token": token}).status_code == 201
    again = client_api.post(ACCEPT, headers=factories.auth_headers(person), json={"token": token})
    assert again.status_code == 409
    assert "already been used" in again.json()["detail"]


def test_an_expired_invitation_is_refused(client_api, team, mailoutbox):
    person = factories.user("new.person@example.test")
    invite(client_api, team)
    Invitation.objects.filter(email=person.email).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    before = state(team["tenant"])
    response = client_api.post(ACCEPT, headers=factories.auth_headers(person), json={"token": token_from(mailoutbox[0])})
    assert response.status_code == 409
    assert "expired" in response.json()["detail"]
    assert state(team["tenant"]) == before
    listed = client_api.get(tenant_url(team["tenant"], "invitations"), headers=factories.auth_headers(team["admin"])).json()
    assert [item["status"] for item in listed["items"] if item["email"] == person.email] == ["expired"]


def test_a_revoked_invitation_is_refused(client_api, team, mailoutbox):
    person = factories.user("new.person@example.test")
    invitation_id = invite(client_api, team).json()["id"]
    revoked = client_api.delete(tenant_url(team["tenant"], "invitations", invitation_id), headers=factories.auth_headers(team["admin"]))
    assert revoked.status_code == 204
    response = client_api.post(ACCEPT, headers=factories.auth_headers(person), json={"token": token_from(mailoutbox[0])})
    assert response.status_code == 409
    assert "revoked" in response.json()["detail"]
    assert not Membership.objects.filter(tenant=team["tenant"], user=person).exists()


def test_an_unknown_token_is_not_found(client_api, team, alice):
    response = client_api.post(ACCEPT, headers=factories.auth_headers(alice), json={"token": "inv_guess"})
    assert response.status_code == 404


def test_a_new_person_signs_up_from_the_invitation(client_api, team, mailoutbox):
    invite(client_api, team, role="admin")
    response = client_api.post(ACCEPT_NEW, json={"token": token_from(mailoutbox[0]), "password": factories.PASSWORD, "name": "Nina"})
    assert response.status_code == 201, response.text
    person = User.objects.get(email="new.person@example.test")
    assert response.json()["user"] == {"id": str(person.pk), "email": "new.person@example.test", "name": "Nina"}
    assert response.json()["tenant"]["role"] == "admin"
    assert Tenant.objects.filter(kind="personal", memberships__user=person).count() == 1
    signed_in = client_api.post("/api/v1/auth/token", json={"email": person.email, "password": factories.PASSWORD})
    assert signed_in.status_code == 200


def test_signing_up_with_an_invitation_to_a_registered_email_says_sign_in(client_api, team, mailoutbox):
    factories.user("new.person@example.test")
    invite(client_api, team)
    before = (User.objects.count(), state(team["tenant"]))
    response = client_api.post(ACCEPT_NEW, json={"token": token_from(mailoutbox[0]), "password": factories.PASSWORD})
    assert response.status_code == 409
    assert "sign in" in response.json()["detail"]
    assert (User.objects.count(), state(team["tenant"])) == before


@pytest.mark.parametrize("body", [
    {"password": "correct-horse-battery-staple"},
    {"token": "x", "password": "correct-horse-battery-staple", "email": "me@example.test"},
    {"token": "", "password": "correct-horse-battery-staple"},
])
def test_bad_accept_new_input_is_refused(client_api, team, body):
    users = User.objects.count()
    assert client_api.post(ACCEPT_NEW, json=body).status_code == 422
    assert User.objects.count() == users


def test_a_weak_password_creates_nobody(client_api, team, mailoutbox):
    invite(client_api, team)
    response = client_api.post(ACCEPT_NEW, json={"token": token_from(mailoutbox[0]), "password": "short"})
    assert response.status_code == 422
    assert not User.objects.filter(email="new.person@example.test").exists()


# --- inviting: refusals -------------------------------------------------------


def test_inviting_a_member_again_is_a_conflict(client_api, team, mailoutbox):
    before = state(team["tenant"])
    response = invite(client_api, team, email=team["member"].email.upper())
    assert response.status_code == 409
    assert state(team["tenant"]) == before
    assert mailoutbox == []


def test_an_admin_cannot_invite_an_owner_but_an_owner_can(client_api, team, mailoutbox):
    before = state(team["tenant"])
    assert invite(client_api, team, role="owner", actor="admin").status_code == 403
    assert state(team["tenant"]) == before and mailoutbox == []
    assert invite(client_api, team, role="owner", actor="owner").status_code == 201


def test_a_personal_space_cannot_invite(client_api, alice, mailoutbox):
    personal = Membership.objects.get(user=alice).tenant
    response = client_api.post(tenant_url(personal, "invitations"), headers=factories.auth_headers(alice),
                               json={"email": "friend@example.test", "role": "viewer"})
    assert response.status_code == 422
    assert "personal space" in response.json()["detail"]
    assert not Invitation.objects.exists() and mailoutbox == []


@pytest.mark.parametrize("body", [
    {"email": "not-an-email", "role": "member"},
    {"email": "a@example.test", "role": "boss"},
    {"email": "a@example.test", "role": "member", "message": "hi"},
    {"role": "member"},
])
def test_bad_invitation_input_is_refused(client_api, team, mailoutbox, body):
    before = state(team["tenant"])
    response = client_api.post(tenant_url(team["tenant"], "invitations"), headers=factories.auth_headers(team["owner"]), json=body)
    assert response.status_code == 422
    assert state(team["tenant"]) == before and mailoutbox == []


# --- listing ------------------------------------------------------------------


@pytest.mark.parametrize("role, status", [("owner", 200), ("admin", 200), ("member", 403), ("viewer", 403)])
def test_only_admins_and_owners_list_invitations(client_api, team, role, status):
    response = client_api.get(tenant_url(team["tenant"], "invitations"), headers=factories.auth_headers(team[role]))
    assert response.status_code == status
    if status == 200:
        assert [item["email"] for item in response.json()["items"]] == ["invited@example.test"]


def test_the_invitation_list_pages_newest_first_with_bounded_queries(client_api, team):
    now = timezone.now()
    Invitation.objects.bulk_create([
        Invitation(tenant=team["tenant"], email=f"p{i}@example.test", role="viewer", token_hash=f"{i:064d}",
                   invited_by=team["owner"], created_at=now + dt.timedelta(seconds=i), expires_at=now + dt.timedelta(days=1))
        for i in range(101)
    ])
    headers = factories.auth_headers(team["admin"])
    first = client_api.get(tenant_url(team["tenant"], "invitations"), headers=headers, params={"limit": 2}).json()
    assert [item["email"] for item in first["items"]] == ["p100@example.test", "p99@example.test"]
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            response = client_api.get(tenant_url(team["tenant"], "invitations"), headers=headers, params={"limit": limit})
            assert response.status_code == 200 and response.json()["next"]
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_revoking_is_audited(client_api, team):
    invitation = team["invitation"]
    client_api.delete(tenant_url(team["tenant"], "invitations", invitation.pk), headers=factories.auth_headers(team["owner"]))
    entry = AuditEntry.objects.get(action="invitation.revoke")
    assert (entry.actor, entry.object_id, entry.changes["revoked_at"][0]) == (team["owner"], str(invitation.pk), None)
