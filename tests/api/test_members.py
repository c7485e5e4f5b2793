"""/api/v1/tenants/{tenant}/members: list, change roles, remove, leave."""

from __future__ import annotations

import pytest

from coffer.audit.models import AuditEntry
from coffer.tenancy.models import Membership, User
from tests import factories
from tests.api.teams import make_team, state, tenant_url
from tests.querycount import count_queries


@pytest.fixture
def team(transactional_db):
    return make_team()


def patch_role(client, team, actor, target, role):
    return client.patch(tenant_url(team["tenant"], "members", team["m"][target].pk),
                        headers=factories.auth_headers(team[actor]), json={"role": role})


def role_of(team, who) -> str | None:
    return Membership.objects.filter(pk=team["m"][who].pk).values_list("role", flat=True).first()


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_member_sees_the_members_in_joining_order(client_api, team, role):
    response = client_api.get(tenant_url(team["tenant"], "members"), headers=factories.auth_headers(team[role]))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["user"]["name"], item["role"]) for item in items] == [
        ("Owner", "owner"), ("Admin", "admin"), ("Member", "member"), ("Extra", "member"), ("Viewer", "viewer")
    ]
    assert items[0] == {
        "id": str(team["m"]["owner"].pk), "role": "owner", "created_at": items[0]["created_at"],
        "user": {"id": str(team["owner"].pk), "email": team["owner"].email, "name": "Owner"},
    }


def test_the_member_list_pages_with_bounded_queries(client_api, team):
    users = User.objects.bulk_create([User(email=f"bulk{i}@example.test", name=f"Bulk {i}") for i in range(101)])
    Membership.objects.bulk_create([Membership(tenant=team["tenant"], user=u, role="viewer") for u in users])
    headers = factories.auth_headers(team["viewer"])
    seen, cursor = [], None
    while True:
        params = {"limit": 40, **({"cursor": cursor} if cursor else {})}
        body = client_api.get(tenant_url(team["tenant"], "members"), headers=headers, params=params).json()
        seen += [item["id"] for item in body["items"]]
        if not (cursor := body["next"]):
            break
    assert len(seen) == len(set(seen)) == 106
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            assert client_api.get(tenant_url(team["tenant"], "members"), headers=headers, params={"limit": limit}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_admin_changes_a_role_and_it_is_audited(client_api, team):
    response = patch_role(client_api, team, "admin", "viewer", "member")
    assert response.status_code == 200
    assert response.json()["role"] == "member" and response.json()["user"]["id"] == str(team["viewer"].pk)
    entry = AuditEntry.objects.get(action="membership.update")
    assert (entry.actor, entry.object_id, entry.changes) == (team["admin"], str(team["m"]["viewer"].pk), {"role": ["viewer", "member"]})


@pytest.mark.parametrize("target, role", [("owner", "admin"), ("owner", "viewer"), ("member", "owner"), ("admin", "owner")])
def test_an_admin_cannot_change_or_grant_owner(client_api, team, target, role):
    before = state(team["tenant"])
    response = patch_role(client_api, team, "admin", target, role)
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]
    assert state(team["tenant"]) == before


def test_an_admin_cannot_remove_an_owner(client_api, team):
    before = state(team["tenant"])
    response = client_api.delete(tenant_url(team["tenant"], "members", team["m"]["owner"].pk), headers=factories.auth_headers(team["admin"]))
    assert response.status_code == 403
    assert state(team["tenant"]) == before


def test_an_owner_makes_a_second_owner(client_api, team):
    assert patch_role(client_api, team, "owner", "admin", "owner").status_code == 200
    assert role_of(team, "admin") == "owner"


def test_the_last_owner_cannot_be_demoted_or_leave(client_api, team):
    before = state(team["tenant"])
    response = patch_role(client_api, team, "owner", "owner", "admin")
    assert response.status_code == 409
    assert "at least one owner" in response.json()["detail"]
    left = client_api.delete(tenant_url(team["tenant"], "members", team["m"]["owner"].pk), headers=factories.auth_headers(team["owner"]))
    assert left.status_code == 409
    assert state(team["tenant"]) == before


def test_with_two_owners_one_may_step_down(client_api, team):
    patch_role(client_api, team, "owner", "admin", "owner")
    assert patch_role(client_api, team, "owner", "owner", "viewer").status_code == 200
    assert (role_of(team, "owner"), role_of(team, "admin")) == ("viewer", "owner")


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_a_member_leaves_with_their_own_membership_id(client_api, team, role):
    response = client_api.delete(tenant_url(team["tenant"], "members", team["m"][role].pk), headers=factories.auth_headers(team[role]))
    assert response.status_code == 204
    assert role_of(team, role) is None
    assert client_api.get(tenant_url(team["tenant"]), headers=factories.auth_headers(team[role])).status_code == 404
    entry = AuditEntry.objects.get(action="membership.delete")
    assert (entry.actor, entry.changes["role"]) == (team[role], [role, None])


@pytest.mark.parametrize("body", [{"role": "boss"}, {"role": None}, {}, {"role": "viewer", "user_id": "x"}, {"role": "Viewer"}])
def test_bad_role_changes_are_refused(client_api, team, body):
    before = state(team["tenant"])
    response = client_api.patch(tenant_url(team["tenant"], "members", team["m"]["member"].pk),
                                headers=factories.auth_headers(team["owner"]), json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert state(team["tenant"]) == before


def test_a_malformed_or_unknown_membership_id_is_refused(client_api, team):
    headers = factories.auth_headers(team["owner"])
    assert client_api.patch(tenant_url(team["tenant"], "members", "nope"), headers=headers, json={"role": "viewer"}).status_code == 422
    unknown = "01900000-0000-7000-8000-000000000000"
    assert client_api.delete(tenant_url(team["tenant"], "members", unknown), headers=headers).status_code == 404
