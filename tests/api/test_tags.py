"""/api/v1/tenants/{tenant}/tags through the whole ASGI app."""

from __future__ import annotations

import uuid

import pytest

from coffer.api.models import ApiToken
from coffer.audit.models import AuditEntry
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Tag, TransactionTag
from coffer.secrets import secret_hash
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/tags", *map(str, rest)])


def state(tenant) -> tuple:
    return (
        sorted(Tag.objects.filter(tenant=tenant).values_list("pk", "name")),
        sorted(TransactionTag.objects.filter(tenant=tenant).values_list("transaction_id", "tag_id")),
        AuditEntry.objects.filter(tenant=tenant).count(),
    )


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


def make_tag(team, name) -> Tag:
    return ledger_services.tag_create(tenant=team["tenant"], actor=team["owner"], name=name)


def walk(client_api, tenant, headers, **params) -> list[dict]:
    seen, cursor = [], None
    while True:
        page = client_api.get(url(tenant), headers=headers, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            return seen


# --- happy paths ----------------------------------------------------------


def test_an_admin_creates_reads_renames_and_deletes_a_tag(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    created = client_api.post(url(tenant), headers=headers, json={"name": "  Tax  deductible "})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {"id": body["id"], "name": "Tax deductible", "created_at": body["created_at"],
                    "updated_at": body["updated_at"]}
    assert client_api.get(url(tenant, body["id"]), headers=headers).json() == body

    row = factories.transaction(factories.account(tenant), tags=["tax deductible"])
    renamed = client_api.patch(url(tenant, body["id"]), headers=headers, json={"name": "Deductible"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Deductible"
    txn = client_api.get(f"/api/v1/tenants/{tenant.slug}/transactions/{row.pk}", headers=headers).json()
    assert txn["tags"] == ["Deductible"]

    assert client_api.delete(url(tenant, body["id"]), headers=headers).status_code == 204
    assert client_api.get(url(tenant, body["id"]), headers=headers).status_code == 404
    txn = client_api.get(f"/api/v1/tenants/{tenant.slug}/transactions/{row.pk}", headers=headers).json()
    assert txn["tags"] == []
    actions = sorted(AuditEntry.objects.filter(object_id=body["id"]).values_list("action", flat=True))
    assert actions == ["tag.create", "tag.delete", "tag.update"]


def test_tags_are_listed_by_name_in_pages_and_searchable(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    names = [f"{'ab'[i % 2]}{'Tag' if i % 3 else 'tag'} {i:02d}" for i in range(13)]
    for name in names:
        make_tag(team, name)
    seen = [t["name"] for t in walk(client_api, tenant, headers, limit=4)]
    assert seen == sorted(names, key=str.lower)
    assert [t["name"] for t in walk(client_api, tenant, headers, q="TAG 1")] == sorted(
        (n for n in names if "tag 1" in n.lower()), key=str.lower
    )


def test_the_tag_list_runs_the_same_number_of_queries_for_5_or_100_tags(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    Tag.objects.bulk_create(Tag(tenant=tenant, name=f"tag {i:03d}") for i in range(105))
    client_api.get(url(tenant), headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            response = client_api.get(url(tenant), headers=headers, params={"limit": limit})
        assert len(response.json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3


# --- bad input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"name": ""}, 422, "name", "at least 1"),
        ({"name": "   "}, 422, "name", "at least 1"),
        ({"name": "x" * 51}, 422, "name", "at most 50"),
        ({"name": 5}, 422, "name", "string"),
        ({}, 422, "name", "required"),
        ({"name": "ok", "color": "red"}, 422, "color", "Extra inputs"),
        ({"name": "TRIP"}, 409, "name", "A tag named 'TRIP' already exists"),
    ],
)
def test_bad_tag_input_is_refused_with_a_clear_message_and_nothing_written(client_api, team, body, status, field, words):
    tenant = team["tenant"]
    make_tag(team, "Trip")
    before = state(tenant)
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["admin"]), json=body)
    assert response.status_code == status, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert words.lower() in response.json()["detail"].lower()
    assert state(tenant) == before


def test_renaming_onto_another_tag_is_a_409_and_changes_nothing(client_api, team):
    tenant = team["tenant"]
    make_tag(team, "Trip")
    work = make_tag(team, "Work")
    before = state(tenant)
    response = client_api.patch(url(tenant, work.pk), headers=factories.auth_headers(team["owner"]), json={"name": "trip"})
    assert response.status_code == 409
    assert response.json()["detail"] == "A tag named 'trip' already exists"
    assert state(tenant) == before


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "nope"}, {"cursor": "WyJhIl0"}])
def test_bad_tag_list_parameters_are_422(client_api, team, params):
    response = client_api.get(url(team["tenant"]), headers=factories.auth_headers(team["viewer"]), params=params)
    assert response.status_code == 422
    assert list(params)[0] in response.text


# --- roles ----------------------------------------------------------------


def _writes(team):
    tag = make_tag(team, "Old")
    factories.transaction(factories.account(team["tenant"]), tags=["old"])
    return [
        ("POST", url(team["tenant"]), {"name": "New"}, 201),
        ("PATCH", url(team["tenant"], tag.pk), {"name": "Renamed"}, 200),
        ("DELETE", url(team["tenant"], tag.pk), None, 204),
    ]


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("member", False), ("viewer", False)])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_admins_and_owners_manage_tags_members_and_viewers_do_not(client_api, team, role, allowed, which):
    tenant = team["tenant"]
    method, path, body, status = _writes(team)[which]
    before = state(tenant)
    response = client_api.request(method, path, headers=factories.auth_headers(team[role]), **({"json": body} if body else {}))
    if allowed:
        assert response.status_code == status, response.text
        assert state(tenant) != before
    else:
        assert response.status_code == 403
        assert state(tenant) == before


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_role_reads_tags(client_api, team, role):
    tenant, headers = team["tenant"], factories.auth_headers(team[role])
    tag = make_tag(team, "Trip")
    assert [t["name"] for t in client_api.get(url(tenant), headers=headers).json()["items"]] == ["Trip"]
    assert client_api.get(url(tenant, tag.pk), headers=headers).status_code == 200


def test_a_read_only_token_cannot_manage_tags(client_api, team):
    tenant = team["tenant"]
    raw = f"cof_{uuid.uuid4().hex}"
    ApiToken.objects.create(user=team["owner"], tenant=tenant, name="ro", scope=ApiToken.Scope.READ,
                            prefix=raw[:12], token_hash=secret_hash(raw))
    headers = {"Authorization": f"Bearer {raw}"}
    writes = _writes(team)
    before = state(tenant)
    for method, path, body, _ in writes:
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 403
    assert state(tenant) == before
    assert client_api.get(url(tenant), headers=headers).status_code == 200


# --- other tenants --------------------------------------------------------


def test_another_tenants_tag_is_404_everywhere_and_untouched(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    other_owner = factories.user()
    other = factories.organization(other_owner)
    theirs = ledger_services.tag_create(tenant=other, actor=other_owner, name="Confidential")
    factories.transaction(factories.account(other), tags=["confidential"])
    before = state(other)
    for method, body in [("GET", None), ("PATCH", {"name": "mine"}), ("DELETE", None)]:
        response = client_api.request(method, url(tenant, theirs.pk), headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert "Confidential" not in response.text
    assert "Confidential" not in client_api.get(url(tenant), headers=headers).text
    assert state(other) == before


def test_a_tenant_you_do_not_belong_to_is_404_for_every_tag_endpoint(client_api, team):
    tenant = team["tenant"]
    writes = _writes(team)
    tag = Tag.objects.get(tenant=tenant)
    headers = factories.auth_headers(factories.user())
    before = state(tenant)
    for method, path, body, _ in [("GET", url(tenant), None, 0), ("GET", url(tenant, tag.pk), None, 0), *writes]:
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert response.json()["detail"] == "No such tenant"
    assert state(tenant) == before
