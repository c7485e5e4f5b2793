"""Invitations by email (coffer.tenancy.services): create, send, accept, expire, revoke."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.secrets import secret_hash
from coffer.tenancy import services
from coffer.tenancy.models import Invitation, Membership, Tenant, User
from tests import factories


@pytest.fixture
def org(db):
    owner, admin = factories.user(name="Olga"), factories.user()
    return {"owner": owner, "admin": admin, "tenant": factories.organization(owner, name="Acme", admin=[admin])}


def invite(org, email="new.person@example.test", role="member", actor=None):
    return services.invitation_create(tenant=org["tenant"], actor=actor or org["owner"], email=email, role=role)


def token_in(message) -> str:
    return re.search(r"token=([\w-]+)", message.body).group(1)


def test_an_invitation_stores_only_the_token_hash_and_emails_the_link(org, mailoutbox, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.PUBLIC_BASE_URL = "https://coffer.example.test/"
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invite(org, email="  New.Person@Example.TEST ", role="viewer")
    assert invitation.email == "new.person@example.test"
    assert invitation.token_hash == secret_hash(token) and token not in invitation.token_hash
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.person@example.test"]
    assert "Acme" in message.subject
    assert f"https://coffer.example.test/invitations/accept?token={token}" in message.body
    assert "Olga" in message.body and "viewer" in message.body
    entry = AuditEntry.objects.get(action="invitation.create")
    assert entry.changes["email"] == [None, "new.person@example.test"]


def test_no_email_is_sent_when_the_invitation_is_refused(org, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(errors.Conflict):
        invite(org, email=org["admin"].email)
    assert mailoutbox == []


def test_invitations_expire_after_the_configured_days(org, settings):
    settings.INVITATION_TTL_DAYS = 3
    invitation, _ = invite(org)
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=3)


def test_inviting_a_member_again_is_a_conflict(org):
    with pytest.raises(errors.Conflict, match="already a member"):
        invite(org, email=org["admin"].email.upper())
    assert not Invitation.objects.exists()


def test_an_open_invitation_cannot_be_duplicated_but_a_revoked_one_can_be_replaced(org):
    first, _ = invite(org)
    with pytest.raises(errors.Conflict, match="still open"):
        invite(org)
    services.invitation_revoke(tenant=org["tenant"], actor=org["admin"], invitation_id=first.pk)
    invite(org)
    assert Invitation.objects.count() == 2


def test_a_personal_space_cannot_invite(db):
    person = factories.user()
    personal = Membership.objects.get(user=person).tenant
    with pytest.raises(errors.ValidationError, match="personal space"):
        services.invitation_create(tenant=personal, actor=person, email="friend@example.test", role="viewer")
    assert not Invitation.objects.exists()


def test_only_an_owner_invites_an_owner(org):
    with pytest.raises(errors.PermissionDenied):
        invite(org, role="owner", actor=org["admin"])
    invitation, _ = invite(org, role="owner")
    with pytest.raises(errors.PermissionDenied):
        services.invitation_revoke(tenant=org["tenant"], actor=org["admin"], invitation_id=invitation.pk)
    assert Invitation.objects.get().revoked_at is None


# --- accepting -------------------------------------------------------------


def test_an_existing_user_accepts_with_their_email_in_any_case(org):
    person = factories.user("new.person@example.test")
    _, token = invite(org, email="NEW.person@example.test", role="viewer")
    membership = services.invitation_accept(user=person, token=token)
    assert (membership.tenant, membership.user, membership.role) == (org["tenant"], person, "viewer")
    assert Invitation.objects.get().accepted_at is not None
    assert set(AuditEntry.objects.filter(tenant=org["tenant"]).values_list("action", flat=True)) >= {
        "invitation.accept", "membership.create"
    }


def test_an_invitation_for_another_email_is_refused(org):
    stranger = factories.user("stranger@example.test")
    _, token = invite(org)
    with pytest.raises(errors.PermissionDenied, match="another email address"):
        services.invitation_accept(user=stranger, token=token)
    assert not Membership.objects.filter(user=stranger, tenant=org["tenant"]).exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_invitation_works_once(org):
    person = factories.user("new.person@example.test")
    _, token = invite(org)
    services.invitation_accept(user=person, token=token)
    with pytest.raises(errors.Conflict, match="already been used"):
        services.invitation_accept(user=person, token=token)


def test_an_expired_invitation_is_refused(org):
    person = factories.user("new.person@example.test")
    invitation, token = invite(org)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(errors.Conflict, match="expired"):
        services.invitation_accept(user=person, token=token)
    assert not Membership.objects.filter(user=person, tenant=org["tenant"]).exists()


def test_a_revoked_invitation_is_refused(org):
    person = factories.user("new.person@example.test")
    invitation, token = invite(org)
    services.invitation_revoke(tenant=org["tenant"], actor=org["admin"], invitation_id=invitation.pk)
    with pytest.raises(errors.Conflict, match="revoked"):
        services.invitation_accept(user=person, token=token)
    assert AuditEntry.objects.filter(action="invitation.revoke", object_id=str(invitation.pk)).count() == 1


def test_an_unknown_token_is_not_found(org):
    with pytest.raises(errors.NotFound):
        services.invitation_accept(user=org["admin"], token="inv_made-up")


def test_an_accepted_invitation_cannot_be_revoked(org):
    person = factories.user("new.person@example.test")
    invitation, token = invite(org)
    services.invitation_accept(user=person, token=token)
    with pytest.raises(errors.Conflict):
        services.invitation_revoke(tenant=org["tenant"], actor=org["owner"], invitation_id=invitation.pk)


def test_a_new_person_signs_up_from_an_invitation(org):
    _, token = invite(org, role="admin")
    membership = services.invitation_accept_new(token=token, password=factories.PASSWORD, name="Nina")
    person = User.objects.get(email="new.person@example.test")
    assert person.check_password(factories.PASSWORD) and person.name == "Nina"
    assert (membership.user, membership.tenant, membership.role) == (person, org["tenant"], "admin")
    assert Tenant.objects.filter(kind="personal", memberships__user=person, memberships__role="owner").count() == 1
    with pytest.raises(errors.Conflict):
        services.invitation_accept_new(token=token, password=factories.PASSWORD, name="Nina")


def test_signing_up_from_an_invitation_for_an_existing_account_says_to_sign_in(org):
    factories.user("new.person@example.test")
    _, token = invite(org)
    with pytest.raises(errors.Conflict, match="sign in"):
        services.invitation_accept_new(token=token, password=factories.PASSWORD)
    assert Invitation.objects.get().accepted_at is None


def test_a_weak_password_creates_nothing(org):
    _, token = invite(org)
    with pytest.raises(errors.ValidationError) as exc:
        services.invitation_accept_new(token=token, password="short")
    assert "password" in exc.value.field_errors
    assert not User.objects.filter(email="new.person@example.test").exists()
    assert Invitation.objects.get().accepted_at is None
