"""/api/v1/me: the signed-in person and their memberships."""

from __future__ import annotations

import pytest

from coffer.api import services as api_services
from coffer.audit.models import AuditEntry
from coffer.tenancy.models import Membership, User
from tests import factories


def test_me_shows_the_person_and_their_tenants_with_roles(client_api, alice, bob):
    acme = factories.organization(bob, name="Acme", admin=[alice])
    response = client_api.get("/api/v1/me", headers=factories.auth_headers(alice))
    assert response.status_code == 200
    body = response.json()
    personal = Membership.objects.get(user=alice, tenant__kind="personal")
    assert {k: body[k] for k in ("id", "email", "name", "time_zone", "more_memberships")} == {
        "id": str(alice.pk), "email": "alice@example.test", "name": "Alice", "time_zone": "UTC", "more_memberships": False,
    }
    assert body["memberships"] == [
        {"id": str(acme.pk), "slug": acme.slug, "name": "Acme", "kind": "organization", "base_currency": "EUR",
         "role": "admin", "membership_id": str(Membership.objects.get(user=alice, tenant=acme).pk)},
        {"id": str(personal.tenant_id), "slug": personal.tenant.slug, "name": "Alice", "kind": "personal",
         "base_currency": "EUR", "role": "owner", "membership_id": str(personal.pk)},
    ]


def test_me_needs_a_signed_in_person(client_api, alice):
    assert client_api.get("/api/v1/me").status_code == 401
    _, secret = api_services.pat_create(user=alice, tenant_ref=Membership.objects.get(user=alice).tenant.slug, name="t", scope="read-write")
    assert client_api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 403


def test_a_person_changes_name_and_time_zone(client_api, alice):
    response = client_api.patch("/api/v1/me", headers=factories.auth_headers(alice),
                                json={"name": "Alice Liddell", "time_zone": "America/New_York"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["time_zone"]) == ("Alice Liddell", "America/New_York")
    alice.refresh_from_db()
    assert (alice.name, alice.time_zone) == ("Alice Liddell", "America/New_York")
    assert AuditEntry.objects.get(action="user.update").changes["time_zone"] == ["UTC", "America/New_York"]


@pytest.mark.parametrize("body, field", [
    ({"time_zone": "Atlantis/Capital"}, "time_zone"),
    ({"time_zone": None}, "time_zone"),
    ({"name": "x" * 151}, "name"),
    ({"email": "new@example.test"}, "email"),
    ({"is_staff": True}, "is_staff"),
])
def test_bad_profile_changes_are_refused(client_api, alice, body, field):
    response = client_api.patch("/api/v1/me", headers=factories.auth_headers(alice), json=body)
    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["errors"]}
    assert User.objects.filter(pk=alice.pk).values_list("email", "name", "time_zone", "is_staff").get() == (
        "alice@example.test", "Alice", "UTC", False
    )
