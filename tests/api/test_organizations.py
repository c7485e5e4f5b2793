"""Tenants and organizations through the whole ASGI app, with the role and cross-tenant matrices
for every write endpoint about people and organizations (tenant, members, invitations)."""

from __future__ import annotations

import pytest

from coffer.api import services as api_services
from coffer.audit.models import AuditEntry
from coffer.tenancy.models import Membership, Tenant, User
from tests import factories
from tests.api.teams import ROLES, make_team, state, tenant_url
from tests.querycount import count_queries

@pytest.fixture
def team(transactional_db):
    return make_team()


@pytest.fixture
def other(transactional_db):
    return make_team()


# Each write endpoint: (method, path after the tenant, body), given a team whose ids it uses.
WRITES = {
    "rename": lambda t: ("PATCH", (), {"name": "Renamed"}),
    "delete": lambda t: ("DELETE", (), None),
    "transfer": lambda t: ("POST", ("transfer-ownership",), {"user_id": str(t["member"].pk)}),
    "change_role": lambda t: ("PATCH", ("members", t["m"]["extra"].pk), {"role": "viewer"}),
    "remove_member": lambda t: ("DELETE", ("members", t["m"]["extra"].pk), None),
    "invite": lambda t: ("POST", ("invitations",), {"email": "someone@example.test", "role": "member"}),
    "revoke": lambda t: ("DELETE", ("invitations", t["invitation"].pk), None),
}
ALLOWED = {
    "rename": ({"owner", "admin"}, 200),
    "delete": ({"owner"}, 204),
    "transfer": ({"owner"}, 200),
    "change_role": ({"owner", "admin"}, 200),
    "remove_member": ({"owner", "admin"}, 204),
    "invite": ({"owner", "admin"}, 201),
    "revoke": ({"owner", "admin"}, 204),
}
READS = {
    "detail": lambda t: ("GET", (), None),
    "members": lambda t: ("GET", ("members",), None),
    "invitations": lambda t: ("GET", ("invitations",), None),
    "audit": lambda t: ("GET", ("audit",), None),
}


def call(client, team_for_path, spec, person):
    method, rest, body = spec
    return client.request(method, tenant_url(team_for_path["tenant"], *rest), headers=factories.auth_headers(person), json=body)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_every_role_against_every_write_endpoint(client_api, team, endpoint, role):
    allowed, ok_status = ALLOWED[endpoint]
    before = state(team["tenant"])
    response = call(client_api, team, WRITES[endpoint](team), team[role])
    if role in allowed:
        assert response.status_code == ok_status, response.text
        assert state(team["tenant"]) != before
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert state(team["tenant"]) == before


@pytest.mark.parametrize("endpoint", sorted(WRITES) + sorted(READS))
def test_a_tenant_you_do_not_belong_to_is_not_found_and_unchanged(client_api, team, other, endpoint):
    spec = {**WRITES, **READS}[endpoint](other)
    before = state(other["tenant"])
    response = call(client_api, other, spec, team["owner"])
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "No such tenant"
    assert state(other["tenant"]) == before


@pytest.mark.parametrize("endpoint", ["change_role", "remove_member", "revoke"])
def test_another_tenants_member_and_invitation_ids_are_not_found(client_api, team, other, endpoint):
    method, rest, body = WRITES[endpoint](other)  # ids of the other tenant ...
    before = state(other["tenant"]), state(team["tenant"])
    response = client_api.request(
        method, tenant_url(team["tenant"], *rest), headers=factories.auth_headers(team["owner"]), json=body
    )  # ... under our own tenant's path
    assert response.status_code == 404, response.text
    assert (state(other["tenant"]), state(team["tenant"])) == before


def test_transfer_to_a_person_of_another_tenant_is_refused(client_api, team, other):
    before = state(team["tenant"])
    response = client_api.post(
        tenant_url(team["tenant"], "transfer-ownership"), headers=factories.auth_headers(team["owner"]),
        json={"user_id": str(other["member"].pk)},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "user_id", "message": "Not a member of this organization.", "code": "validation_error"}]
    assert state(team["tenant"]) == before


def test_personal_access_tokens_read_but_do_not_manage_the_organization(client_api, team):
    _, secret = api_services.pat_create(user=team["owner"], tenant_ref=team["tenant"].slug, name="bot", scope="read-write")
    headers = {"Authorization": f"Bearer {secret}"}
    before = state(team["tenant"])
    assert client_api.get(tenant_url(team["tenant"], "members"), headers=headers).status_code == 200
    for endpoint in sorted(WRITES):
        method, rest, body = WRITES[endpoint](team)
        response = client_api.request(method, tenant_url(team["tenant"], *rest), headers=headers, json=body)
        assert response.status_code == 403, endpoint
    assert state(team["tenant"]) == before


# --- organizations and the tenant list ------------------------------------


def test_a_person_creates_an_organization_and_becomes_its_owner(client_api, alice):
    response = client_api.post("/api/v1/organizations", headers=factories.auth_headers(alice),
                               json={"name": "Acme Ltd", "slug": "acme", "base_currency": "chf"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"id": body["id"], "slug": "acme", "name": "Acme Ltd", "kind": "organization",
                    "base_currency": "CHF", "created_at": body["created_at"], "role": "owner"}
    assert Membership.objects.get(tenant_id=body["id"]).user == alice
    assert AuditEntry.objects.filter(tenant_id=body["id"], action="tenant.create").exists()


def test_a_taken_slug_is_a_conflict(client_api, alice, bob):
    factories.organization(bob, slug="acme")
    response = client_api.post("/api/v1/organizations", headers=factories.auth_headers(alice), json={"name": "A", "slug": "acme"})
    assert response.status_code == 409
    assert Tenant.objects.filter(slug="acme").count() == 1


@pytest.mark.parametrize("body, field", [
    ({"name": "Acme", "colour": "red"}, "colour"),
    ({"name": ""}, "name"),
    ({"name": "x" * 151}, "name"),
    ({"name": "Acme", "base_currency": "EURO"}, "base_currency"),
    ({}, "name"),
])
def test_bad_organization_input_is_refused(client_api, alice, body, field):
    count = Tenant.objects.count()
    response = client_api.post("/api/v1/organizations", headers=factories.auth_headers(alice), json=body)
    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["errors"]}
    assert Tenant.objects.count() == count


def test_the_tenant_list_shows_each_tenant_with_your_role(client_api, alice, bob):
    acme = factories.organization(bob, name="Acme", viewer=[alice])
    factories.organization(bob, name="Not Alices")
    response = client_api.get("/api/v1/tenants", headers=factories.auth_headers(alice))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["name"], item["kind"], item["role"]) for item in items] == [
        ("Acme", "organization", "viewer"), ("Alice", "personal", "owner")
    ]
    assert items[0]["id"] == str(acme.pk) and items[0]["slug"] == acme.slug
    assert response.json()["next"] is None


def bulk_tenants(person, count):
    tenants = Tenant.objects.bulk_create(
        [Tenant(kind="organization", name=f"Bulk {i:03}", slug=f"bulk-{i}") for i in range(count)]
    )
    Membership.objects.bulk_create([Membership(tenant=t, user=person, role="member") for t in tenants])


def test_the_tenant_list_pages_through_every_tenant_with_bounded_queries(client_api, alice):
    bulk_tenants(alice, 104)
    headers = factories.auth_headers(alice)
    seen, cursor = [], None
    while True:
        body = client_api.get("/api/v1/tenants", headers=headers, params={"limit": 30, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 105
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            assert client_api.get("/api/v1/tenants", headers=headers, params={"limit": limit}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "not-a-cursor"}])
def test_bad_paging_is_refused(client_api, alice, params):
    assert client_api.get("/api/v1/tenants", headers=factories.auth_headers(alice), params=params).status_code == 422


def test_the_tenant_list_needs_a_signed_in_person(client_api, alice):
    assert client_api.get("/api/v1/tenants").status_code == 401
    _, secret = api_services.pat_create(user=alice, tenant_ref=Membership.objects.get(user=alice).tenant.slug, name="t", scope="read")
    assert client_api.get("/api/v1/tenants", headers={"Authorization": f"Bearer {secret}"}).status_code == 403


# --- one tenant -------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_tenant_with_their_role(client_api, team, role):
    response = client_api.get(tenant_url(team["tenant"]), headers=factories.auth_headers(team[role]))
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == (str(team["tenant"].pk), role)


def test_the_tenant_is_found_by_id_as_well_as_slug(client_api, team):
    response = client_api.get(f"/api/v1/tenants/{team['tenant'].pk}", headers=factories.auth_headers(team["viewer"]))
    assert response.json()["slug"] == team["tenant"].slug


def test_an_admin_renames_the_tenant(client_api, team):
    response = client_api.patch(tenant_url(team["tenant"]), headers=factories.auth_headers(team["admin"]),
                                json={"name": "New name", "base_currency": "usd"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["base_currency"], response.json()["role"]) == ("New name", "USD", "admin")
    entry = AuditEntry.objects.get(tenant=team["tenant"], action="tenant.update")
    assert entry.actor == team["admin"] and entry.changes["name"][1] == "New name"


@pytest.mark.parametrize("body", [{"slug": "new"}, {"name": None}, {"name": ""}, {"base_currency": "XXXX"}, {"kind": "personal"}])
def test_bad_tenant_changes_are_refused(client_api, team, body):
    before = state(team["tenant"])
    response = client_api.patch(tenant_url(team["tenant"]), headers=factories.auth_headers(team["owner"]), json=body)
    assert response.status_code == 422
    assert state(team["tenant"]) == before


def test_an_owner_deletes_the_organization(client_api, team):
    account = factories.account(team["tenant"])
    response = client_api.delete(tenant_url(team["tenant"]), headers=factories.auth_headers(team["owner"]))
    assert response.status_code == 204
    assert not Tenant.objects.filter(pk=team["tenant"].pk).exists()
    assert not account.__class__.objects.filter(pk=account.pk).exists()
    assert User.objects.filter(pk=team["member"].pk).exists()
    assert client_api.get(tenant_url(team["tenant"]), headers=factories.auth_headers(team["owner"])).status_code == 404


def test_a_personal_space_cannot_be_deleted_through_the_api(client_api, alice):
    personal = Membership.objects.get(user=alice).tenant
    response = client_api.delete(tenant_url(personal), headers=factories.auth_headers(alice))
    assert response.status_code == 409
    assert Tenant.objects.filter(pk=personal.pk).exists()


def test_the_owner_hands_over_and_becomes_admin(client_api, team):
    response = client_api.post(tenant_url(team["tenant"], "transfer-ownership"), headers=factories.auth_headers(team["owner"]),
                               json={"user_id": str(team["viewer"].pk)})
    assert response.status_code == 200, response.text
    assert (response.json()["user"]["id"], response.json()["role"]) == (str(team["viewer"].pk), "owner")
    roles_now = dict(Membership.objects.filter(tenant=team["tenant"]).values_list("user_id", "role"))
    assert (roles_now[team["viewer"].pk], roles_now[team["owner"].pk]) == ("owner", "admin")
    # the former owner is now an admin: they can no longer delete
    assert client_api.delete(tenant_url(team["tenant"]), headers=factories.auth_headers(team["owner"])).status_code == 403


@pytest.mark.parametrize("body", [{}, {"user_id": "nope"}, {"user_id": None}])
def test_bad_transfer_input_is_refused(client_api, team, body):
    before = state(team["tenant"])
    response = client_api.post(tenant_url(team["tenant"], "transfer-ownership"), headers=factories.auth_headers(team["owner"]), json=body)
    assert response.status_code == 422
    assert state(team["tenant"]) == before


def test_transferring_to_yourself_is_refused(client_api, team):
    response = client_api.post(tenant_url(team["tenant"], "transfer-ownership"), headers=factories.auth_headers(team["owner"]),
                               json={"user_id": str(team["owner"].pk)})
    assert response.status_code == 422
