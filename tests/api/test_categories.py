"""/api/v1/tenants/{tenant}/categories through the whole ASGI app."""

from __future__ import annotations

import uuid

import pytest

from coffer.api.models import ApiToken
from coffer.audit.models import AuditEntry
from coffer.ledger import defaults
from coffer.ledger.models import Category, Transaction
from coffer.secrets import secret_hash
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/categories", *map(str, rest)])


def state(tenant) -> tuple:
    """Everything a category write could change in a tenant."""
    return (
        sorted(Category.objects.filter(tenant=tenant).values_list("pk", "parent_id", "name", "kind", "color", "archived_at")),
        sorted(Transaction.objects.filter(tenant=tenant).values_list("pk", "category_id", "category_source")),
        AuditEntry.objects.filter(tenant=tenant).count(),
    )


def named(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


# --- happy paths ----------------------------------------------------------


def test_the_tree_lists_the_default_categories_with_their_subcategories(client_api, team):
    tenant = team["tenant"]
    response = client_api.get(url(tenant), headers=factories.auth_headers(team["viewer"]))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == len(defaults.DEFAULT_TREE)
    assert sum(1 + len(top["children"]) for top in items) == defaults.default_category_count()
    food = next(top for top in items if top["name"] == "Food")
    assert food == {
        "id": str(named(tenant, "Food").pk), "parent_id": None, "name": "Food", "kind": "expense", "color": "#ef6c00",
        "archived": False, "created_at": food["created_at"], "updated_at": food["updated_at"],
        "children": [
            {"id": str(named(tenant, n).pk), "parent_id": food["id"], "name": n, "kind": "expense", "color": "",
             "archived": False, "created_at": c["created_at"], "updated_at": c["updated_at"]}
            for n, c in zip(["Groceries", "Restaurants"], food["children"], strict=True)
        ],
    }
    names = [top["name"] for top in items]
    assert names == sorted(names, key=str.lower)


def test_an_admin_creates_reads_renames_moves_archives_and_deletes_a_category(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    pets = client_api.post(url(tenant), headers=headers, json={"name": "Pets", "kind": "expense", "color": "#123ABC"})
    assert pets.status_code == 201, pets.text
    assert pets.json()["color"] == "#123abc"
    vet = client_api.post(url(tenant), headers=headers, json={"name": "Vet", "parent_id": pets.json()["id"]})
    assert vet.status_code == 201, vet.text
    body = vet.json()
    assert (body["parent_id"], body["kind"], body["archived"]) == (pets.json()["id"], "expense", False)
    assert client_api.get(url(tenant, body["id"]), headers=headers).json() == body

    moved = client_api.patch(url(tenant, body["id"]), headers=headers,
                             json={"name": "Veterinary", "parent_id": str(named(tenant, "Health").pk)})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["name"], moved.json()["parent_id"]) == ("Veterinary", str(named(tenant, "Health").pk))
    archived = client_api.patch(url(tenant, body["id"]), headers=headers, json={"archived": True})
    assert archived.json()["archived"] is True
    assert "Veterinary" not in str(client_api.get(url(tenant), headers=headers).json())
    assert "Veterinary" in str(client_api.get(url(tenant), headers=headers, params={"archived": "true"}).json())

    assert client_api.delete(url(tenant, body["id"]), headers=headers).status_code == 204
    assert client_api.get(url(tenant, body["id"]), headers=headers).status_code == 404
    actions = sorted(AuditEntry.objects.filter(object_id=body["id"]).values_list("action", flat=True))
    assert actions == ["category.create", "category.delete", "category.update", "category.update"]


def test_deleting_a_used_category_uncategorizes_or_reassigns_its_transactions(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    account = factories.account(tenant)
    fuel, car = named(tenant, "Fuel"), named(tenant, "Car")
    row = factories.transaction(account, category_id=fuel.pk)
    response = client_api.delete(url(tenant, fuel.pk), headers=headers, params={"reassign_to": str(car.pk)})
    assert response.status_code == 204
    assert Transaction.objects.get(pk=row.pk).category_id == car.pk
    assert client_api.delete(url(tenant, car.pk), headers=headers).status_code == 204
    assert Transaction.objects.filter(pk=row.pk).values_list("category_id", "category_source").get() == (None, "")


def test_a_parent_with_subcategories_is_not_deleted(client_api, team):
    tenant = team["tenant"]
    before = state(tenant)
    response = client_api.delete(url(tenant, named(tenant, "Food").pk), headers=factories.auth_headers(team["owner"]))
    assert response.status_code == 409
    assert response.json()["detail"] == "'Food' has 2 subcategories; move or delete them first"
    assert state(tenant) == before


def test_the_tree_is_read_in_a_fixed_number_of_queries_however_many_categories(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    client_api.get(url(tenant), headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for extra in (0, 200):
        parents = [Category(tenant=tenant, name=f"Extra {extra}-{i}", kind="expense") for i in range(extra // 4)]
        Category.objects.bulk_create(parents)
        Category.objects.bulk_create(
            Category(tenant=tenant, parent=p, name=f"Child {j}", kind="expense") for p in parents for j in range(3)
        )
        with count_queries() as queries:
            response = client_api.get(url(tenant), headers=headers)
        assert sum(1 + len(t["children"]) for t in response.json()["items"]) == defaults.default_category_count() + extra
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3


# --- bad input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"name": "", "kind": "expense"}, 422, "name", "at least 1"),
        ({"name": "x" * 81, "kind": "expense"}, 422, "name", "at most 80"),
        ({"name": "Pets"}, 422, "kind", "needs a kind"),
        ({"name": "Pets", "kind": "loss"}, 422, "kind", "income"),
        ({"name": "Pets", "kind": "expense", "color": "blue"}, 422, "color", "pattern"),
        ({"name": "Pets", "kind": "expense", "tenant": "x"}, 422, "tenant", "Extra inputs"),
        ({"name": "Pets", "parent_id": "food"}, 422, "parent_id", "uuid"),
        ({"name": "Bonus", "kind": "income", "parent_id": "<Food>"}, 422, "kind", "parent's kind"),
        ({"name": "Organic", "parent_id": "<Groceries>"}, 422, "parent_id", "two levels deep"),
        ({"name": "Pets", "parent_id": str(uuid.uuid4())}, 422, "parent_id", "No such category"),
        ({"name": "groceries", "parent_id": "<Food>"}, 409, "name", "already exists under 'Food'"),
        ({"name": "FOOD", "kind": "income"}, 409, "name", "already exists at the top level"),
    ],
)
def test_bad_category_input_is_refused_with_a_clear_message_and_nothing_written(client_api, team, body, status, field, words):
    tenant = team["tenant"]
    body = {k: str(named(tenant, v[1:-1]).pk) if isinstance(v, str) and v.startswith("<") else v for k, v in body.items()}
    before = state(tenant)
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["admin"]), json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json().get("errors", [])}
    assert words.lower() in response.json()["detail"].lower()
    assert state(tenant) == before


@pytest.mark.parametrize(
    ("target", "body", "status", "words"),
    [
        ("Food", {"parent_id": "<Housing>"}, 409, "has 2 subcategories"),
        ("Fuel", {"kind": "income"}, 422, "parent's kind"),
        ("Fuel", {"name": "car"}, 409, "already exists under 'Transport'"),
        ("Fuel", {"name": None}, 422, "name"),
        ("Fuel", {"archived": "yes"}, 422, "archived"),
        ("Fuel", {"parent_id": "<Fuel>"}, 422, "two levels deep"),
        ("Food", {"parent_id": "<Food>"}, 422, "own parent"),
    ],
)
def test_bad_category_changes_are_refused_and_change_nothing(client_api, team, target, body, status, words):
    tenant = team["tenant"]
    body = {k: str(named(tenant, v[1:-1]).pk) if isinstance(v, str) and v.startswith("<") else v for k, v in body.items()}
    before = state(tenant)
    response = client_api.patch(url(tenant, named(tenant, target).pk), headers=factories.auth_headers(team["owner"]), json=body)
    assert response.status_code == status, response.text
    assert words.lower() in response.text.lower()
    assert state(tenant) == before


# --- roles ----------------------------------------------------------------


def _writes(tenant):
    pets = Category.objects.create(tenant=tenant, name="Pets", kind="expense")
    return [
        ("POST", url(tenant), {"name": "Garden", "kind": "expense"}, 201),
        ("PATCH", url(tenant, pets.pk), {"name": "Animals"}, 200),
        ("DELETE", url(tenant, pets.pk), None, 204),
    ]


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("member", False), ("viewer", False)])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_admins_and_owners_manage_categories_members_and_viewers_do_not(client_api, team, role, allowed, which):
    tenant = team["tenant"]
    method, path, body, status = _writes(tenant)[which]
    before = state(tenant)
    response = client_api.request(method, path, headers=factories.auth_headers(team[role]), **({"json": body} if body else {}))
    if allowed:
        assert response.status_code == status, response.text
        assert state(tenant) != before
    else:
        assert response.status_code == 403
        assert response.json()["detail"] == f"Your role ({role}) does not allow this"
        assert state(tenant) == before


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_role_reads_categories(client_api, team, role):
    tenant, headers = team["tenant"], factories.auth_headers(team[role])
    assert len(client_api.get(url(tenant), headers=headers).json()["items"]) == len(defaults.DEFAULT_TREE)
    assert client_api.get(url(tenant, named(tenant, "Food").pk), headers=headers).json()["name"] == "Food"


def test_a_read_only_token_reads_but_cannot_manage_categories(client_api, team):
    tenant = team["tenant"]
    raw = f"cof_{uuid.uuid4().hex}"
    ApiToken.objects.create(user=team["owner"], tenant=tenant, name="ro", scope=ApiToken.Scope.READ,
                            prefix=raw[:12], token_hash=secret_hash(raw))
    headers = {"Authorization": f"Bearer {raw}"}
    assert client_api.get(url(tenant), headers=headers).status_code == 200
    writes = _writes(tenant)
    before = state(tenant)
    for method, path, body, _ in writes:
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 403
    assert state(tenant) == before


# --- other tenants --------------------------------------------------------


def test_another_tenants_category_is_404_everywhere_and_untouched(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    other = factories.organization(factories.user())
    theirs = Category.objects.create(tenant=other, name="Secret project", kind="expense")
    before = state(other)
    for method, body in [("GET", None), ("PATCH", {"name": "mine now"}), ("DELETE", None)]:
        response = client_api.request(method, url(tenant, theirs.pk), headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert "Secret" not in response.text
    assert "Secret" not in client_api.get(url(tenant), headers=headers, params={"archived": "true"}).text
    assert state(other) == before


def test_another_tenants_category_cannot_be_a_parent_or_a_reassignment_target(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    theirs = named(factories.organization(factories.user()), "Food")
    pets = Category.objects.create(tenant=tenant, name="Pets", kind="expense")
    before = state(tenant)
    response = client_api.post(url(tenant), headers=headers, json={"name": "Snacks", "parent_id": str(theirs.pk)})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "parent_id")
    response = client_api.patch(url(tenant, pets.pk), headers=headers, json={"parent_id": str(theirs.pk)})
    assert response.status_code == 422
    response = client_api.delete(url(tenant, pets.pk), headers=headers, params={"reassign_to": str(theirs.pk)})
    assert response.status_code == 422
    assert state(tenant) == before
    assert not Category.objects.filter(parent=theirs).exclude(tenant=theirs.tenant).exists()


def test_a_tenant_you_do_not_belong_to_is_404_for_every_category_endpoint(client_api, team):
    tenant = team["tenant"]
    headers = factories.auth_headers(factories.user())
    writes = _writes(tenant)
    before = state(tenant)
    for method, path, body, _ in [("GET", url(tenant), None, 0), ("GET", url(tenant, named(tenant, "Food").pk), None, 0),
                                  *writes]:
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert response.json()["detail"] == "No such tenant"
    assert state(tenant) == before


# --- default tree at sign-up and organization creation ---------------------


def test_signing_up_and_creating_an_organization_through_the_api_start_with_the_default_tree(client_api, transactional_db):
    response = client_api.post("/api/v1/auth/signup", json={
        "email": "new@example.test", "password": factories.PASSWORD, "name": "New"
    })
    assert response.status_code == 201, response.text
    from coffer.tenancy.models import User

    person = User.objects.get(email="new@example.test")
    personal = person.memberships.get().tenant
    headers = factories.auth_headers(person)
    tree = client_api.get(url(personal), headers=headers).json()["items"]
    assert "Groceries" in {child["name"] for top in tree for child in top["children"]}

    created = client_api.post("/api/v1/organizations", headers=headers, json={"name": "New Org"})
    assert created.status_code == 201, created.text
    org = person.memberships.exclude(tenant=personal).get().tenant
    org_tree = client_api.get(url(org), headers=headers).json()["items"]
    assert sum(1 + len(t["children"]) for t in org_tree) == defaults.default_category_count()
    assert {t["id"] for t in org_tree}.isdisjoint({t["id"] for t in tree})
