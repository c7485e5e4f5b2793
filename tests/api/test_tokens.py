"""/api/v1/tokens: personal access tokens, and what such a token may reach."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from coffer.api.models import ApiToken
from coffer.audit.models import AuditEntry
from coffer.ledger.models import Account
from coffer.secrets import secret_hash
from coffer.tenancy.models import Membership, User
from tests import factories
from tests.querycount import count_queries

TOKENS = "/api/v1/tokens"


def accounts_url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.slug}/accounts"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create(client_api, person, tenant, *, scope="read", name="CI", **extra):
    return client_api.post(
        TOKENS, headers=factories.auth_headers(person), json={"name": name, "tenant": tenant.slug, "scope": scope, **extra}
    )


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


# --- create ---------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_only_hashed(client_api, team):
    tenant, admin = team["tenant"], team["admin"]
    response = create(client_api, admin, tenant, scope="read-write", name="Spreadsheet sync")
    assert response.status_code == 201, response.text
    body = response.json()
    secret = body["token"]
    assert secret.startswith("cof_") and len(secret) > 40
    stored = ApiToken.objects.get()
    assert body == {
        "id": str(stored.pk), "name": "Spreadsheet sync", "scope": "read-write", "prefix": secret[:12],
        "tenant": {"id": str(tenant.pk), "slug": tenant.slug, "name": tenant.name, "kind": "organization"},
        "created_at": body["created_at"], "last_used_at": None, "expires_at": None, "token": secret,
    }
    assert stored.token_hash == secret_hash(secret) and stored.prefix == secret[:12]
    assert stored.user == admin and stored.tenant == tenant
    assert secret not in {stored.token_hash, stored.prefix, stored.name}


def test_creating_a_token_writes_an_audit_entry_without_the_secret(client_api, team):
    secret = create(client_api, team["admin"], team["tenant"]).json()["token"]
    entry = AuditEntry.objects.get(action="api_token.create")
    token = ApiToken.objects.get()
    assert (entry.tenant, entry.actor, entry.object_id) == (team["tenant"], team["admin"], str(token.pk))
    assert entry.changes["scope"] == [None, "read"] and entry.changes["name"] == [None, "CI"]
    assert secret not in str(entry.changes) and token.token_hash not in str(entry.changes)


def test_a_token_may_be_made_by_tenant_id_and_with_an_expiry(client_api, team):
    response = client_api.post(
        TOKENS, headers=factories.auth_headers(team["viewer"]),
        json={"name": "30 days", "tenant": str(team["tenant"].pk), "scope": "read", "expires_in_days": 30},
    )
    assert response.status_code == 201, response.text
    expires = dt.datetime.fromisoformat(response.json()["expires_at"])
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)


def test_a_token_for_a_tenant_you_are_not_in_is_404_and_creates_nothing(client_api, team, alice):
    for ref in (team["tenant"].slug, str(team["tenant"].pk), "no-such-tenant", str(uuid.uuid4())):
        response = client_api.post(
            TOKENS, headers=factories.auth_headers(alice), json={"name": "x", "tenant": ref, "scope": "read"}
        )
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert not ApiToken.objects.exists()
    assert not AuditEntry.objects.filter(action="api_token.create").exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"scope": "admin"}, "scope"),
        ({"scope": None}, "scope"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"tenant": ""}, "tenant"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"secret": "cof_mine"}, "secret"),
    ],
)
def test_bad_token_input_is_a_422_naming_the_field_and_creates_nothing(client_api, team, change, field):
    body = {"name": "CI", "tenant": team["tenant"].slug, "scope": "read", **change}
    response = client_api.post(TOKENS, headers=factories.auth_headers(team["admin"]), json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not ApiToken.objects.exists()


def test_a_personal_access_token_cannot_manage_tokens(client_api, team):
    secret = create(client_api, team["owner"], team["tenant"], scope="read-write").json()["token"]
    token_id = ApiToken.objects.get().pk
    body = {"name": "more", "tenant": team["tenant"].slug, "scope": "read-write"}
    assert client_api.post(TOKENS, headers=bearer(secret), json=body).status_code == 403
    assert client_api.get(TOKENS, headers=bearer(secret)).status_code == 403
    assert client_api.delete(f"{TOKENS}/{token_id}", headers=bearer(secret)).status_code == 403
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_managing_tokens_needs_a_session(client_api, team):
    assert client_api.get(TOKENS).status_code == 401
    assert client_api.post(TOKENS, json={"name": "x", "tenant": team["tenant"].slug, "scope": "read"}).status_code == 401
    assert not ApiToken.objects.exists()


# --- list -----------------------------------------------------------------


def test_the_list_shows_your_live_tokens_newest_first_without_secrets(client_api, team):
    admin, tenant = team["admin"], team["tenant"]
    first = create(client_api, admin, tenant, name="first").json()
    second = create(client_api, admin, tenant, name="second").json()
    revoked = create(client_api, admin, tenant, name="revoked").json()
    client_api.delete(f"{TOKENS}/{revoked['id']}", headers=factories.auth_headers(admin))
    create(client_api, team["viewer"], tenant, name="someone else's")

    response = client_api.get(TOKENS, headers=factories.auth_headers(admin))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["name"] for i in items] == ["second", "first"]
    assert all("token" not in item for item in items)
    assert first["token"] not in response.text and second["token"] not in response.text
    assert items[0]["prefix"] == second["token"][:12]


def test_the_token_list_pages_with_a_cursor(client_api, team):
    admin, tenant = team["admin"], team["tenant"]
    names = [f"token {i:02d}" for i in range(12)]
    for name in names:
        create(client_api, admin, tenant, name=name)
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client_api.get(TOKENS, headers=factories.auth_headers(admin), params=params).json()
        seen += [t["name"] for t in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(reversed(names))


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "nonsense"}, {"cursor": "WyJ4IiwieSJd"}])
def test_bad_list_parameters_are_422(client_api, team, params):
    response = client_api.get(TOKENS, headers=factories.auth_headers(team["admin"]), params=params)
    assert response.status_code == 422, response.text


def test_the_token_list_runs_the_same_number_of_queries_for_5_or_100_rows(client_api, team):
    admin, tenant = team["admin"], team["tenant"]
    other = factories.organization(admin)
    now = dt.datetime.now(dt.UTC)
    ApiToken.objects.bulk_create(
        ApiToken(user=admin, tenant=tenant if i % 2 else other, name=f"t{i}", scope="read", prefix="cof_x",
                 token_hash=secret_hash(f"t{i}"), created_at=now - dt.timedelta(seconds=i))
        for i in range(105)
    )
    headers = factories.auth_headers(admin)
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            response = client_api.get(TOKENS, headers=headers, params={"limit": limit})
        assert len(response.json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 3


# --- revoke ---------------------------------------------------------------


def test_revoking_a_token_stops_it_and_is_audited(client_api, team):
    admin, tenant = team["admin"], team["tenant"]
    created = create(client_api, admin, tenant).json()
    assert client_api.get(accounts_url(tenant), headers=bearer(created["token"])).status_code == 200

    response = client_api.delete(f"{TOKENS}/{created['id']}", headers=factories.auth_headers(admin))
    assert response.status_code == 204 and response.content == b""

    refused = client_api.get(accounts_url(tenant), headers=bearer(created["token"]))
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    entry = AuditEntry.objects.get(action="api_token.revoke")
    assert (entry.tenant, entry.actor, entry.object_id) == (tenant, admin, created["id"])
    assert created["token"] not in str(entry.changes)

    # Revoking again changes nothing and writes nothing.
    assert client_api.delete(f"{TOKENS}/{created['id']}", headers=factories.auth_headers(admin)).status_code == 204
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_another_persons_token_cannot_be_revoked(client_api, team, alice):
    created = create(client_api, team["admin"], team["tenant"]).json()
    for token_id in (created["id"], str(uuid.uuid4())):
        response = client_api.delete(f"{TOKENS}/{token_id}", headers=factories.auth_headers(alice))
        assert response.status_code == 404
    # A teammate of the same tenant cannot either.
    assert client_api.delete(f"{TOKENS}/{created['id']}", headers=factories.auth_headers(team["owner"])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None
    assert client_api.get(accounts_url(team["tenant"]), headers=bearer(created["token"])).status_code == 200
    assert client_api.delete(f"{TOKENS}/not-a-uuid", headers=factories.auth_headers(alice)).status_code == 422


# --- what a token reaches -------------------------------------------------


def test_a_read_token_reads_but_cannot_write(client_api, team):
    tenant = team["tenant"]
    secret = create(client_api, team["owner"], tenant, scope="read").json()["token"]
    assert client_api.get(accounts_url(tenant), headers=bearer(secret)).status_code == 200
    response = client_api.post(accounts_url(tenant), headers=bearer(secret), json={"name": "X", "currency": "EUR"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert not Account.objects.exists()
    assert ApiToken.objects.get().last_used_at is not None


def test_a_read_write_token_writes_within_its_owners_role(client_api, team):
    tenant = team["tenant"]
    admin_secret = create(client_api, team["admin"], tenant, scope="read-write").json()["token"]
    viewer_secret = create(client_api, team["viewer"], tenant, scope="read-write").json()["token"]
    body = {"name": "Ops", "currency": "EUR"}
    assert client_api.post(accounts_url(tenant), headers=bearer(admin_secret), json=body).status_code == 201
    assert client_api.post(accounts_url(tenant), headers=bearer(viewer_secret), json=body | {"name": "V"}).status_code == 403
    assert list(Account.objects.values_list("name", flat=True)) == ["Ops"]


def test_a_token_only_reaches_its_own_tenant(client_api, team):
    admin, tenant = team["admin"], team["tenant"]
    other = factories.organization(admin)
    factories.account(other, name="Other books")
    secret = create(client_api, admin, tenant, scope="read-write").json()["token"]
    for ref in (other.slug, str(other.pk)):
        response = client_api.get(f"/api/v1/tenants/{ref}/accounts", headers=bearer(secret))
        assert response.status_code == 404
        assert "Other books" not in response.text
    response = client_api.post(accounts_url(other), headers=bearer(secret), json={"name": "X", "currency": "EUR"})
    assert response.status_code == 404
    assert Account.objects.filter(tenant=other).count() == 1


def test_an_expired_token_is_401(client_api, team):
    secret = create(client_api, team["admin"], team["tenant"], expires_in_days=1).json()["token"]
    ApiToken.objects.update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    response = client_api.get(accounts_url(team["tenant"]), headers=bearer(secret))
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_a_token_of_a_deactivated_person_is_401(client_api, team):
    secret = create(client_api, team["admin"], team["tenant"]).json()["token"]
    User.objects.filter(pk=team["admin"].pk).update(is_active=False)
    assert client_api.get(accounts_url(team["tenant"]), headers=bearer(secret)).status_code == 401


def test_a_token_of_someone_who_left_the_tenant_is_404_there(client_api, team):
    secret = create(client_api, team["member"], team["tenant"], scope="read-write").json()["token"]
    factories.account(team["tenant"], name="Team books")
    Membership.objects.filter(user=team["member"], tenant=team["tenant"]).delete()
    response = client_api.get(accounts_url(team["tenant"]), headers=bearer(secret))
    assert response.status_code == 404
    assert "Team books" not in response.text
