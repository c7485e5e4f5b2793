"""/api/v1/tenants/{tenant}/accounts through the whole ASGI app."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from coffer.api.models import ApiToken
from coffer.audit.models import AuditEntry
from coffer.ledger.models import Account
from coffer.secrets import secret_hash
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/accounts", *map(str, rest)])


def snapshot(tenant) -> list[tuple]:
    return list(
        Account.objects.filter(tenant=tenant).order_by("pk").values_list(
            "pk", "name", "type", "currency", "opening_balance", "balance", "archived_at"
        )
    )


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


# --- happy paths ----------------------------------------------------------


def test_an_admin_creates_reads_updates_and_deletes_an_account(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    created = client_api.post(url(tenant), headers=headers, json={
        "name": "Joint", "type": "savings", "currency": "chf", "opening_balance": "1200.5",
        "institution": "PostFinance", "account_number": "CH93 0076 2011 6238 5295 7",
    })
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {
        "id": body["id"], "name": "Joint", "type": "savings", "currency": "CHF", "opening_balance": "1200.50",
        "balance": "1200.50", "institution": "PostFinance", "account_number": "CH93 0076 2011 6238 5295 7",
        "archived": False, "created_at": body["created_at"],
    }

    assert client_api.get(url(tenant, body["id"]), headers=headers).json() == body

    patched = client_api.patch(url(tenant, body["id"]), headers=headers, json={"name": "Joint savings", "opening_balance": "1000"})
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["balance"]) == ("Joint savings", "1000.00")

    assert client_api.delete(url(tenant, body["id"]), headers=headers).status_code == 204
    assert client_api.get(url(tenant, body["id"]), headers=headers).status_code == 404
    actions = set(AuditEntry.objects.filter(object_id=body["id"]).values_list("action", flat=True))
    assert actions == {"account.create", "account.update", "account.delete"}


def test_balance_is_opening_plus_transactions(client_api, team):
    tenant = team["tenant"]
    account = factories.account(tenant, opening_balance="50")
    factories.transaction(account, amount="-12.3456")
    body = client_api.get(url(tenant, account.pk), headers=factories.auth_headers(team["viewer"])).json()
    assert (body["opening_balance"], body["balance"]) == ("50.00", "37.6544")


def test_archived_accounts_are_listed_only_when_asked_for(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    factories.account(tenant, name="Active")
    old = factories.account(tenant, name="Old")
    response = client_api.patch(url(tenant, old.pk), headers=headers, json={"archived": True})
    assert response.json()["archived"] is True

    assert [a["name"] for a in client_api.get(url(tenant), headers=headers).json()["items"]] == ["Active"]
    listed = client_api.get(url(tenant), headers=headers, params={"archived": "true"}).json()["items"]
    assert [(a["name"], a["archived"]) for a in listed] == [("Active", False), ("Old", True)]


def test_account_list_pages_with_a_cursor(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    names = [f"Account {i:02d}" for i in range(12)]
    for name in reversed(names):
        factories.account(tenant, name=name)
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client_api.get(url(tenant), headers=headers, params=params).json()
        seen += [a["name"] for a in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == names


def test_account_list_runs_the_same_number_of_queries_for_5_or_100_rows(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    Account.objects.bulk_create(Account(tenant=tenant, name=f"A{i:03d}", currency="EUR") for i in range(105))
    client_api.get(url(tenant), headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            response = client_api.get(url(tenant), headers=headers, params={"limit": limit})
        assert len(response.json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 4


# --- business rules -------------------------------------------------------


def test_currency_cannot_change_once_the_account_has_transactions(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    account = factories.account(tenant, currency="EUR")
    factories.transaction(account, amount="1")
    response = client_api.patch(url(tenant, account.pk), headers=headers, json={"currency": "USD"})
    assert response.status_code == 409
    assert "currency" in response.json()["detail"]
    assert Account.objects.get(pk=account.pk).currency == "EUR"


def test_deleting_an_account_with_transactions_suggests_archiving(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    account = factories.account(tenant)
    factories.transaction(account, amount="1")
    response = client_api.delete(url(tenant, account.pk), headers=headers)
    assert response.status_code == 409
    assert "archive" in response.json()["detail"]
    assert Account.objects.filter(pk=account.pk).exists()


def test_a_duplicate_name_is_a_409(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    factories.account(tenant, name="Main")
    response = client_api.post(url(tenant), headers=headers, json={"name": "Main", "currency": "EUR"})
    assert response.status_code == 409
    assert Account.objects.filter(tenant=tenant).count() == 1


# --- roles ----------------------------------------------------------------


WRITES = [
    ("post", lambda t, a: url(t), {"name": "New", "currency": "EUR"}, 201),
    ("patch", lambda t, a: url(t, a.pk), {"name": "Renamed", "opening_balance": "3"}, 200),
    ("patch", lambda t, a: url(t, a.pk), {"archived": True}, 200),
    ("delete", lambda t, a: url(t, a.pk), None, 204),
]


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("member", False), ("viewer", False)])
@pytest.mark.parametrize(("method", "path", "body", "status"), WRITES)
def test_only_admins_and_owners_manage_accounts(client_api, team, role, allowed, method, path, body, status):
    tenant = team["tenant"]
    account = factories.account(tenant, name="Existing")
    before, audit_before = snapshot(tenant), AuditEntry.objects.count()
    kwargs = {"json": body} if body is not None else {}
    response = client_api.request(method.upper(), path(tenant, account), headers=factories.auth_headers(team[role]), **kwargs)
    if allowed:
        assert response.status_code == status, response.text
        assert snapshot(tenant) != before
    else:
        assert response.status_code == 403
        assert role in response.json()["detail"]
        assert snapshot(tenant) == before
        assert AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_role_reads_accounts(client_api, team, role):
    tenant = team["tenant"]
    account = factories.account(tenant)
    headers = factories.auth_headers(team[role])
    assert client_api.get(url(tenant), headers=headers).status_code == 200
    assert client_api.get(url(tenant, account.pk), headers=headers).status_code == 200


def _pat(user, tenant, scope) -> dict[str, str]:
    raw = f"cof_test_{uuid.uuid4().hex}"
    ApiToken.objects.create(user=user, tenant=tenant, name="t", scope=scope, prefix=raw[:12], token_hash=secret_hash(raw))
    return {"Authorization": f"Bearer {raw}"}


def test_a_read_only_token_of_an_owner_reads_but_cannot_write(client_api, team):
    tenant = team["tenant"]
    account = factories.account(tenant)
    headers = _pat(team["owner"], tenant, ApiToken.Scope.READ)
    assert client_api.get(url(tenant, account.pk), headers=headers).status_code == 200
    before = snapshot(tenant)
    for method, path, body in [("POST", url(tenant), {"name": "X", "currency": "EUR"}),
                               ("PATCH", url(tenant, account.pk), {"name": "Y"}), ("DELETE", url(tenant, account.pk), None)]:
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 403
        assert "read-only" in response.json()["detail"]
    assert snapshot(tenant) == before


def test_a_read_write_token_of_an_admin_creates_accounts(client_api, team):
    tenant = team["tenant"]
    headers = _pat(team["admin"], tenant, ApiToken.Scope.READ_WRITE)
    response = client_api.post(url(tenant), headers=headers, json={"name": "Via token", "currency": "EUR"})
    assert response.status_code == 201


# --- other tenants --------------------------------------------------------


def test_another_tenants_account_is_404_everywhere_and_untouched(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    stranger_tenant = factories.organization(factories.user())
    theirs = factories.account(stranger_tenant, name="Secret", opening_balance="77")
    before = snapshot(stranger_tenant)
    for method, body in [("GET", None), ("PATCH", {"name": "Mine now"}), ("PATCH", {"archived": True}), ("DELETE", None)]:
        response = client_api.request(method, url(tenant, theirs.pk), headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404, (method, response.text)
        assert response.json()["detail"] == "No such account"
        assert "Secret" not in response.text and "77.00" not in response.text
    listed = client_api.get(url(tenant), headers=headers, params={"archived": "true"}).json()["items"]
    assert str(theirs.pk) not in {a["id"] for a in listed}
    assert snapshot(stranger_tenant) == before
    assert not AuditEntry.objects.filter(object_id=str(theirs.pk)).exclude(action="account.create").exists()


def test_a_tenant_you_do_not_belong_to_is_404_for_every_endpoint(client_api, team):
    outsider = factories.user()
    tenant = team["tenant"]
    account = factories.account(tenant)
    headers = factories.auth_headers(outsider)
    before = snapshot(tenant)
    for method, path, body in [
        ("GET", url(tenant), None), ("POST", url(tenant), {"name": "X", "currency": "EUR"}),
        ("GET", url(tenant, account.pk), None), ("PATCH", url(tenant, account.pk), {"name": "Y"}),
        ("DELETE", url(tenant, account.pk), None),
    ]:
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"] == "No such tenant"
    assert snapshot(tenant) == before


def test_without_credentials_it_is_401(client_api, team):
    assert client_api.get(url(team["tenant"])).status_code == 401


# --- bad input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"name": "A", "currency": "EURO"}, "currency", "ISO 4217"),
        ({"name": "A", "currency": "ABC"}, "currency", "ISO 4217"),
        ({"name": "A", "currency": 978}, "currency", "ISO 4217"),
        ({"name": "A", "currency": "EUR", "opening_balance": "1.23456"}, "opening_balance", "4 decimal"),
        ({"name": "A", "currency": "EUR", "opening_balance": 1.5}, "opening_balance", "floating-point"),
        ({"name": "A", "currency": "EUR", "opening_balance": "ten"}, "opening_balance", "not a number"),
        ({"name": "A", "currency": "EUR", "opening_balance": "NaN"}, "opening_balance", "finite"),
        ({"name": "A", "currency": "EUR", "type": "piggy_bank"}, "type", ""),
        ({"name": "A", "currency": "EUR", "colour": "red"}, "colour", "Extra inputs"),
        ({"name": "", "currency": "EUR"}, "name", ""),
        ({"name": 5, "currency": "EUR"}, "name", "string"),
        ({"currency": "EUR"}, "name", "required"),
    ],
)
def test_bad_account_input_is_a_422_naming_the_field_and_creates_nothing(client_api, team, body, field, words):
    tenant = team["tenant"]
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["admin"]), json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in {e["field"] for e in problem["errors"]}
    assert words.lower() in problem["detail"].lower()
    assert not Account.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(
    "body",
    [{"name": None}, {"currency": "XXQ"}, {"opening_balance": "0.00001"}, {"archived": "yes"}, {"balance": "100"},
     {"id": str(uuid.uuid4())}],
)
def test_bad_account_patches_are_422_and_change_nothing(client_api, team, body):
    tenant = team["tenant"]
    account = factories.account(tenant, opening_balance="10")
    before = snapshot(tenant)
    response = client_api.patch(url(tenant, account.pk), headers=factories.auth_headers(team["admin"]), json=body)
    assert response.status_code == 422, response.text
    assert snapshot(tenant) == before
    assert Account.objects.get(pk=account.pk).balance == Decimal("10")


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"limit": "ten"}, {"cursor": "garbage!!"},
                                    {"cursor": "WyJhIl0"}, {"archived": "maybe"}])
def test_bad_list_parameters_are_422(client_api, team, params):
    response = client_api.get(url(team["tenant"]), headers=factories.auth_headers(team["viewer"]), params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_malformed_account_id_is_a_422(client_api, team):
    response = client_api.get(url(team["tenant"], "not-a-uuid"), headers=factories.auth_headers(team["viewer"]))
    assert response.status_code == 422
