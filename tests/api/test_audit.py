"""The audit trail: written by every change, read by admins and owners, never changed."""

from __future__ import annotations

import pytest

from coffer.audit.models import AppendOnlyError, AuditEntry
from coffer.tenancy.models import Membership
from tests import factories
from tests.api.teams import make_team, tenant_url
from tests.querycount import count_queries


@pytest.fixture
def team(transactional_db):
    return make_team()


def audit(client, team, who="admin", **params):
    return client.get(tenant_url(team["tenant"], "audit"), headers=factories.auth_headers(team[who]), params=params)


@pytest.mark.parametrize("role, status", [("owner", 200), ("admin", 200), ("member", 403), ("viewer", 403)])
def test_only_admins_and_owners_read_the_audit_trail(client_api, team, role, status):
    response = audit(client_api, team, role)
    assert response.status_code == status
    if status == 403:
        assert response.json()["detail"] == f"Your role ({role}) does not allow this"


def test_a_non_member_gets_not_found(client_api, team, alice):
    response = client_api.get(tenant_url(team["tenant"], "audit"), headers=factories.auth_headers(alice))
    assert response.status_code == 404


def test_membership_changes_appear_newest_first_with_who_and_what(client_api, team):
    member = team["m"]["member"]
    client_api.patch(tenant_url(team["tenant"], "members", member.pk), headers=factories.auth_headers(team["owner"]), json={"role": "viewer"})
    client_api.delete(tenant_url(team["tenant"], "members", member.pk), headers=factories.auth_headers(team["admin"]))
    items = audit(client_api, team, object_type="membership", object_id=str(member.pk)).json()["items"]
    assert [(item["action"], item["actor"]["id"], item["changes"]) for item in items] == [
        ("membership.delete", str(team["admin"].pk), {"user": [str(team["member"].pk), None], "role": ["viewer", None]}),
        ("membership.update", str(team["owner"].pk), {"role": ["member", "viewer"]}),
    ]
    assert items[0]["actor"] == {"id": str(team["admin"].pk), "email": team["admin"].email, "name": "Admin"}
    assert items[0]["object_type"] == "membership" and items[0]["created_at"] >= items[1]["created_at"]


def test_filters_by_action_and_actor(client_api, team):
    client_api.patch(tenant_url(team["tenant"]), headers=factories.auth_headers(team["admin"]), json={"name": "Renamed"})
    by_action = audit(client_api, team, action="tenant.update").json()["items"]
    assert [item["changes"]["name"][1] for item in by_action] == ["Renamed"]
    by_actor = audit(client_api, team, actor=str(team["admin"].pk)).json()["items"]
    assert {item["action"] for item in by_actor} == {"tenant.update"}
    by_owner = audit(client_api, team, actor=str(team["owner"].pk)).json()["items"]
    assert {item["action"] for item in by_owner} == {"tenant.create", "category.seed", "rule.seed", "invitation.create"}


@pytest.mark.parametrize("params", [{"actor": "someone"}, {"limit": 0}, {"limit": 101}, {"cursor": "bogus"}, {"action": "x" * 65}])
def test_bad_filters_are_refused(client_api, team, params):
    assert audit(client_api, team, **params).status_code == 422


def test_another_tenants_entries_never_show(client_api, team):
    other = make_team()
    client_api.patch(tenant_url(other["tenant"]), headers=factories.auth_headers(other["owner"]), json={"name": "Secret"})
    items = audit(client_api, team, "owner", limit=100).json()["items"]
    assert items and all(item["action"] != "tenant.update" for item in items)
    assert audit(client_api, team, "owner", object_id=str(other["tenant"].pk)).json()["items"] == []


def test_the_trail_pages_with_bounded_queries(client_api, team):
    AuditEntry.objects.bulk_create([
        AuditEntry(tenant=team["tenant"], actor=team["owner"], action="thing.create", object_type="thing", object_id=str(i))
        for i in range(105)
    ])
    seen, cursor = [], None
    while True:
        body = audit(client_api, team, limit=40, **({"cursor": cursor} if cursor else {})).json()
        seen += [item["id"] for item in body["items"]]
        if not (cursor := body["next"]):
            break
    assert len(seen) == len(set(seen)) == AuditEntry.objects.filter(tenant=team["tenant"]).count()
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            assert audit(client_api, team, limit=limit).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- append-only ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_the_api_has_no_way_to_write_the_trail(client_api, team, method):
    entry = AuditEntry.objects.filter(tenant=team["tenant"]).first()
    before = AuditEntry.objects.filter(tenant=team["tenant"]).count()
    for url in (tenant_url(team["tenant"], "audit"), tenant_url(team["tenant"], "audit", entry.pk)):
        response = client_api.request(method, url, headers=factories.auth_headers(team["owner"]), json={"action": "x"})
        assert response.status_code in (404, 405), (method, url)
    assert client_api.request(method, tenant_url(team["tenant"], "audit"), headers=factories.auth_headers(team["owner"])).status_code == 405
    assert AuditEntry.objects.filter(tenant=team["tenant"]).count() == before
    assert AuditEntry.objects.get(pk=entry.pk).action == entry.action


def test_an_audit_entry_cannot_be_updated_or_deleted_through_the_orm(team):
    entry = AuditEntry.objects.filter(tenant=team["tenant"]).first()
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "tenant.create"


def test_every_membership_change_through_the_api_is_audited(client_api, team, mailoutbox):
    tenant, owner = team["tenant"], factories.auth_headers(team["owner"])
    before = AuditEntry.objects.filter(tenant=tenant).count()
    invited = client_api.post(tenant_url(tenant, "invitations"), headers=owner, json={"email": "n@example.test", "role": "viewer"})
    client_api.delete(tenant_url(tenant, "invitations", invited.json()["id"]), headers=owner)
    client_api.patch(tenant_url(tenant, "members", team["m"]["extra"].pk), headers=owner, json={"role": "admin"})
    client_api.post(tenant_url(tenant, "transfer-ownership"), headers=owner, json={"user_id": str(team["extra"].pk)})
    client_api.delete(tenant_url(tenant, "members", Membership.objects.get(tenant=tenant, user=team["viewer"]).pk), headers=owner)
    actions = list(AuditEntry.objects.filter(tenant=tenant).order_by("created_at", "id").values_list("action", flat=True))[before:]
    assert actions == [
        "invitation.create", "invitation.revoke", "membership.update", "ownership.transfer", "ownership.transfer",
        "membership.delete",
    ]
