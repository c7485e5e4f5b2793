"""The members and invitations pages, and the page behind an invitation email's link: each role on
each page and action (shown and refused), the last-owner rule, bad input, other tenants' ids."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from coffer.audit.models import AuditEntry
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Invitation, Membership, User
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "viewer"]
MANAGERS = {"owner", "admin"}


def membership(org, who: str) -> Membership:
    return Membership.objects.get(tenant=org.tenant, user=org.people[who])


def role_of(org, who: str) -> str | None:
    row = Membership.objects.filter(tenant=org.tenant, user=org.people[who]).first()
    return row.role if row else None


HX = {"HTTP_HX_REQUEST": "true"}


# --- members: who sees what ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_everyone_with_their_role(org, role):
    page = org.client(role).get(org.url("members/")).content.decode()

    for person in ROLES:
        assert org.people[person].email in page
    assert org.people["outsider"].email not in page


def test_an_outsider_gets_404_on_the_people_pages(org):
    client = org.client("outsider")
    target = membership(org, "member")
    for rest in ("members/", "invitations/", f"members/{target.pk}/transfer/"):
        assert client.get(org.url(rest)).status_code == 404, rest
    for rest in (f"members/{target.pk}/role/", f"members/{target.pk}/remove/", "members/leave/"):
        assert client.post(org.url(rest), {"role": "viewer"}).status_code == 404, rest
    assert role_of(org, "member") == "member"


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buttons_a_role_can_use_are_shown(org, role):
    page = org.client(role).get(org.url("members/")).content.decode()
    owner, member = membership(org, "owner"), membership(org, "member")

    assert (f"members/{member.pk}/role/" in page) == (role in MANAGERS)
    assert (f"members/{member.pk}/remove/" in page) == (role in MANAGERS)
    assert (f"members/{owner.pk}/role/" in page) == (role == "owner")  # admins never touch owners
    assert (f"members/{owner.pk}/remove/" in page) is False  # not even the owner removes themself: they leave
    assert (f"members/{member.pk}/transfer/" in page) == (role == "owner")
    assert ('<option value="owner"' in page) == (role == "owner")  # nobody gives a role above their own
    assert ("Invite someone" in page) == (role in MANAGERS)
    assert "Leave organization" in page


def test_a_personal_space_offers_neither_invitations_nor_leaving(org):
    personal = Membership.objects.get(user=org.people["owner"], tenant__kind="personal").tenant
    page = org.client("owner").get(f"/t/{personal.slug}/members/").content.decode()

    assert "Leave organization" not in page and "Invite someone" not in page and "/role/" not in page
    assert "A personal space is yours alone" in page


# --- members: changing roles -----------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_changing_a_members_role_is_for_admins_and_owners(org, role):
    target = membership(org, "member")
    response = org.client(role).post(org.url(f"members/{target.pk}/role/"), {"role": "viewer"})

    assert response.status_code == (302 if role in MANAGERS else 403)
    assert role_of(org, "member") == ("viewer" if role in MANAGERS else "member")
    assert AuditEntry.objects.filter(action="membership.update").exists() == (role in MANAGERS)


def test_an_admin_cannot_change_an_owner_and_the_server_says_so(org):
    owner = membership(org, "owner")
    response = org.client("admin").post(org.url(f"members/{owner.pk}/role/"), {"role": "viewer"})

    assert response.status_code == 403
    assert role_of(org, "owner") == "owner"


def test_a_role_above_your_own_is_refused_next_to_the_rows_form(org):
    target = membership(org, "member")
    response = org.client("admin").post(org.url(f"members/{target.pk}/role/"), {"role": "owner"})

    assert response.status_code == 422
    page = response.content.decode()
    assert f'id="member-error-{target.pk}"' in page
    assert "As admin you can give these roles: admins, members, viewers." in page
    assert role_of(org, "member") == "member"


def test_the_last_owner_cannot_step_down_and_the_message_is_next_to_the_form(org):
    owner = membership(org, "owner")
    response = org.client("owner").post(org.url(f"members/{owner.pk}/role/"), {"role": "admin"}, **HX)

    assert response.status_code == 422
    assert response.templates[0].name == "web/people/partials/member_row.html"
    assert "always keeps at least one owner" in response.content.decode()
    assert role_of(org, "owner") == "owner"


def test_over_htmx_a_role_change_swaps_the_updated_row_in(org):
    target = membership(org, "viewer")
    response = org.client("owner").post(org.url(f"members/{target.pk}/role/"), {"role": "member"}, **HX)

    assert response.status_code == 200
    row = response.content.decode()
    assert row.strip().startswith("<tr") and f'id="member-{target.pk}"' in row
    assert '<option value="member" selected>' in row
    assert role_of(org, "viewer") == "member"


def test_changing_your_own_role_over_htmx_reloads_the_page(org):
    me = membership(org, "admin")
    response = org.client("admin").post(org.url(f"members/{me.pk}/role/"), {"role": "member"}, **HX)

    assert response["HX-Redirect"] == org.url("members/")
    assert role_of(org, "admin") == "member"


# --- members: removing, leaving, handing over ------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_removing_a_member_is_for_admins_and_owners(org, role):
    target = membership(org, "viewer") if role != "viewer" else membership(org, "member")
    response = org.client(role).post(org.url(f"members/{target.pk}/remove/"))

    assert response.status_code == (302 if role in MANAGERS else 403)
    assert Membership.objects.filter(pk=target.pk).exists() == (role not in MANAGERS)


def test_an_admin_cannot_remove_an_owner(org):
    owner = membership(org, "owner")
    assert org.client("admin").post(org.url(f"members/{owner.pk}/remove/")).status_code == 403
    assert role_of(org, "owner") == "owner"


def test_removing_over_htmx_swaps_the_row_out(org):
    target = membership(org, "viewer")
    response = org.client("admin").post(org.url(f"members/{target.pk}/remove/"), **HX)

    assert response.status_code == 200 and response.content == b""
    assert role_of(org, "viewer") is None
    assert AuditEntry.objects.get(action="membership.delete").object_id == str(target.pk)


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_anyone_may_leave(org, role):
    response = org.client(role).post(org.url("members/leave/"))

    assert response.status_code == 302 and response["Location"] == "/"
    assert role_of(org, role) is None


def test_the_last_owner_cannot_leave_and_sees_why_next_to_the_button(org):
    response = org.client("owner").post(org.url("members/leave/"))

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="leave-error"' in page and "always keeps at least one owner" in page
    assert role_of(org, "owner") == "owner"


def test_an_owner_hands_the_organization_over_after_confirming(org):
    target = membership(org, "member")
    client = org.client("owner")
    url = org.url(f"members/{target.pk}/transfer/")

    assert client.get(url).status_code == 200
    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 422
    assert unconfirmed.context["form"].errors == {"confirm": ["Tick the box to confirm the hand-over."]}
    assert role_of(org, "member") == "member" and role_of(org, "owner") == "owner"

    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert role_of(org, "member") == "owner" and role_of(org, "owner") == "admin"


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_only_owners_may_hand_over_ownership(org, role):
    target = membership(org, "member" if role != "member" else "viewer")
    url = org.url(f"members/{target.pk}/transfer/")

    assert org.client(role).get(url).status_code == 403
    assert org.client(role).post(url, {"confirm": "on"}).status_code == 403
    assert role_of(org, "owner") == "owner" and Membership.objects.get(pk=target.pk).role != "owner"


def test_another_tenants_member_ids_are_404_and_untouched(org):
    elsewhere = factories.organization(org.people["outsider"], name="Elsewhere", member=[org.people["viewer"]])
    theirs = Membership.objects.get(tenant=elsewhere, user=org.people["viewer"])
    client = org.client("owner")

    assert client.post(org.url(f"members/{theirs.pk}/role/"), {"role": "admin"}).status_code == 404
    assert client.post(org.url(f"members/{theirs.pk}/remove/")).status_code == 404
    assert client.get(org.url(f"members/{theirs.pk}/transfer/")).status_code == 404
    assert client.post(org.url(f"members/{theirs.pk}/transfer/"), {"confirm": "on"}).status_code == 404
    assert client.post(org.url("members/not-a-uuid/remove/")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == "member"


def test_the_members_page_runs_the_same_bounded_queries_for_5_or_70_members_and_pages_the_rest(org):
    client = org.client("owner")

    def fetch(url):
        with count_queries() as queries:
            response = client.get(url)
        return response, len(queries)

    _, few = fetch(org.url("members/"))
    for _ in range(66):
        Membership.objects.create(tenant=org.tenant, user=factories.user(), role="viewer")
    first, many = fetch(org.url("members/"))
    assert many == few <= 8
    assert len(first.context["rows"]) == 50
    more = first.context["more_url"]
    second = client.get(more, **HX)
    assert second.templates[0].name == "web/people/partials/member_rows.html"
    assert len(second.context["rows"]) == 20 and second.context["more_url"] is None
    shown = {row.membership.pk for row in first.context["rows"]} | {row.membership.pk for row in second.context["rows"]}
    assert len(shown) == 70
    assert client.get(org.url("members/?cursor=garbage")).status_code == 400


# --- invitations -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_invitations_page_is_for_admins_and_owners(org, role):
    client = org.client(role)
    allowed = role in MANAGERS

    assert client.get(org.url("invitations/")).status_code == (200 if allowed else 403)
    response = client.post(org.url("invitations/"), {"email": f"{role}-guest@example.test", "role": "viewer"})
    assert response.status_code == (302 if allowed else 403)
    assert Invitation.objects.filter(email=f"{role}-guest@example.test").exists() == allowed
    organization = client.get(org.url("organization/")).content.decode()
    assert (org.url("invitations/") in organization) == allowed


def test_inviting_emails_a_link_and_lists_the_invitation_as_pending(org, mailoutbox, django_capture_on_commit_callbacks):
    client = org.client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(org.url("invitations/"), {"email": "New.Person@Example.test", "role": "member"}, follow=True)

    assert "Invitation sent to new.person@example.test." in response.content.decode()
    assert len(mailoutbox) == 1 and "/invitations/accept?token=" in mailoutbox[0].body
    page = response.content.decode()
    assert "new.person@example.test" in page and "Pending" in page and "Revoke" in page


@pytest.mark.parametrize("data, field, message", [
    ({"email": "not-an-email", "role": "member"}, "email", "Enter a valid email address."),
    ({"email": "", "role": "member"}, "email", "This field is required."),
    ({"email": "x@example.test", "role": "overlord"}, "role", "As admin you can give these roles: admins, members, viewers."),
    ({"email": "x@example.test", "role": "owner"}, "role", "As admin you can give these roles: admins, members, viewers."),
])
def test_bad_invitations_show_the_error_next_to_the_field_and_send_nothing(org, mailoutbox, data, field, message):
    response = org.client("admin").post(org.url("invitations/"), data)

    assert response.status_code == 422
    assert response.context["form"].errors == {field: [message]}
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Invitation.objects.exists() and mailoutbox == []


def test_inviting_a_member_again_is_refused_next_to_the_email(org):
    response = org.client("owner").post(org.url("invitations/"), {"email": org.people["viewer"].email, "role": "member"})

    assert response.status_code == 422
    assert response.context["form"].errors == {"email": ["Already a member."]}
    assert not Invitation.objects.exists()


def test_an_owner_may_invite_an_owner(org):
    response = org.client("owner").post(org.url("invitations/"), {"email": "co@example.test", "role": "owner"})
    assert response.status_code == 302
    assert Invitation.objects.get(email="co@example.test").role == "owner"


def test_a_personal_space_cannot_invite(org):
    personal = Membership.objects.get(user=org.people["owner"], tenant__kind="personal").tenant
    client = org.client("owner")
    page = client.get(f"/t/{personal.slug}/invitations/").content.decode()
    assert "A personal space cannot be shared" in page and 'name="email"' not in page

    response = client.post(f"/t/{personal.slug}/invitations/", {"email": "x@example.test", "role": "member"})
    assert response.status_code == 422 and not Invitation.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_revoking_is_for_admins_and_owners(org, role):
    invitation, _ = tenancy_services.invitation_create(tenant=org.tenant, actor=org.people["owner"], email="g@example.test")
    response = org.client(role).post(org.url(f"invitations/{invitation.pk}/revoke/"))

    assert response.status_code == (302 if role in MANAGERS else 403)
    invitation.refresh_from_db()
    assert (invitation.revoked_at is not None) == (role in MANAGERS)


def test_an_admin_neither_sees_nor_may_use_revoke_on_an_owner_invitation(org):
    invitation, _ = tenancy_services.invitation_create(tenant=org.tenant, actor=org.people["owner"],
                                                       email="co@example.test", role="owner")
    client = org.client("admin")

    assert f"invitations/{invitation.pk}/revoke/" not in client.get(org.url("invitations/")).content.decode()
    assert client.post(org.url(f"invitations/{invitation.pk}/revoke/")).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_another_tenants_invitation_ids_are_404_and_untouched(org):
    elsewhere = factories.organization(org.people["outsider"], name="Elsewhere")
    theirs, _ = tenancy_services.invitation_create(tenant=elsewhere, actor=org.people["outsider"], email="t@example.test")

    assert org.client("owner").post(org.url(f"invitations/{theirs.pk}/revoke/")).status_code == 404
    assert org.client("owner").post(org.url("invitations/12345/revoke/")).status_code == 404
    assert "t@example.test" not in org.client("owner").get(org.url("invitations/")).content.decode()
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_invitations_page_runs_bounded_queries_for_3_or_60_invitations(org):
    client = org.client("owner")

    def invite(n):
        for i in range(n):
            tenancy_services.invitation_create(tenant=org.tenant, actor=org.people["owner"], email=f"g{i}@example.test")

    def fetch():
        with count_queries() as queries:
            response = client.get(org.url("invitations/"))
        return response, len(queries)

    invite(3)
    _, few = fetch()
    Invitation.objects.all().delete()
    invite(60)
    response, many = fetch()
    assert many == few <= 8
    assert len(response.context["invitations"]) == 50 and response.context["more_url"]


# --- the invitation link ------------------------------------------------------------


def _invite(org, email="new.person@example.test", role="member"):
    invitation, token = tenancy_services.invitation_create(tenant=org.tenant, actor=org.people["admin"], email=email,
                                                           role=role)
    return invitation, token


def test_the_link_in_the_email_is_this_page(org, client, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    with django_capture_on_commit_callbacks(execute=True):
        _invite(org)
    link = re.search(r"http://testserver(/invitations/accept\?token=[\w-]+)", mailoutbox[0].body).group(1)

    page = client.get(link)
    assert page.status_code == 200
    assert "Join Acme" in page.content.decode() and "new.person@example.test" in page.content.decode()


def test_a_new_person_signs_up_from_the_link_and_lands_in_the_organization(org, client):
    invitation, token = _invite(org, role="viewer")

    response = client.post("/invitations/accept", {"token": token, "name": "Nina New", "password": "a-long-enough-pass"})

    assert response.status_code == 302 and response["Location"] == org.url()
    person = User.objects.get(email="new.person@example.test")
    assert person.name == "Nina New" and person.email_confirmed_at is not None
    assert Membership.objects.get(tenant=org.tenant, user=person).role == "viewer"
    dashboard = client.get(org.url())
    assert dashboard.status_code == 200 and dashboard.wsgi_request.user == person
    assert "Welcome to Acme." in dashboard.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_a_weak_password_on_the_invitation_sign_up_is_shown_next_to_it_and_creates_nothing(org, client):
    invitation, token = _invite(org)

    response = client.post("/invitations/accept", {"token": token, "name": "N", "password": "short"})

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["password"]
    assert 'id="id_password_error"' in response.content.decode()
    assert not User.objects.filter(email=invitation.email).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_signed_in_person_with_the_matching_email_joins_with_one_click(org):
    guest = factories.user("guest@example.test")
    invitation, token = _invite(org, email="Guest@Example.test", role="member")
    client = org.client("owner")
    client.force_login(guest)

    page = client.get(f"/invitations/accept?token={token}").content.decode()
    assert "Join Acme" in page and 'name="password"' not in page
    response = client.post("/invitations/accept", {"token": token})

    assert response.status_code == 302 and response["Location"] == org.url()
    assert Membership.objects.get(tenant=org.tenant, user=guest).role == "member"


def test_someone_signed_in_with_another_email_is_told_and_nothing_happens(org):
    _invitation, token = _invite(org)
    client = org.client("outsider")

    page = client.get(f"/invitations/accept?token={token}")
    assert page.status_code == 403
    assert "this invitation is for new.person@example.test" in page.content.decode()
    assert client.post("/invitations/accept", {"token": token}).status_code == 403
    assert role_of(org, "outsider") is None


def test_someone_with_an_account_who_is_signed_out_is_asked_to_sign_in_first(org, client):
    factories.user("known@example.test")
    _invitation, token = _invite(org, email="known@example.test")

    page = client.get(f"/invitations/accept?token={token}").content.decode()

    assert "Sign in to accept" in page and 'name="password"' not in page
    assert f"/accounts/login/?next=/invitations/accept%3Ftoken%3D{token}" in page
    response = client.post("/invitations/accept", {"token": token, "password": "whatever-it-is"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("state, message", [
    ("expired", "This invitation has expired."),
    ("accepted", "This invitation has already been used."),
    ("revoked", "This invitation was revoked."),
])
def test_a_closed_invitation_says_so_plainly_and_lets_nobody_in(org, client, state, message):
    invitation, token = _invite(org)
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    elif state == "accepted":
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    else:
        tenancy_services.invitation_revoke(tenant=org.tenant, actor=org.people["owner"], invitation_id=invitation.pk)

    page = client.get(f"/invitations/accept?token={token}")
    assert page.status_code == 410 and message in page.content.decode()
    response = client.post("/invitations/accept", {"token": token, "name": "N", "password": "a-long-enough-pass"})
    assert response.status_code == 410
    assert not User.objects.filter(email=invitation.email).exists()


@pytest.mark.parametrize("query", ["", "?token=", "?token=inv_not-a-real-token", "?token=" + "x" * 5000])
def test_a_wrong_token_is_a_clear_404(client, query, db):
    response = client.get(f"/invitations/accept{query}")

    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()
