"""The per-person cache of membership look-ups: every change of a membership or a tenant is seen by the very
next request (API and web), and a repeated request reads its membership from the cache.

Data is committed (transactional_db), so bumps run on commit as in production, through the real cache.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from prometheus_client import REGISTRY

from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Membership, Tenant
from tests import factories
from tests.querycount import count_queries


def _count(name: str, result: str) -> float:
    return REGISTRY.get_sample_value("coffer_tenant_cache_requests_total", {"name": name, "result": result}) or 0.0


@pytest.fixture
def team(transactional_db):
    owner, viewer, outsider = factories.user(name="Owner"), factories.user(name="Viewer"), factories.user()
    tenant = factories.organization(owner, name="Acme", slug="acme-cache", viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "viewer": viewer, "outsider": outsider,
            "membership": Membership.objects.get(tenant=tenant, user=viewer)}


def accounts_url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.slug}/accounts"


def web(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


# --- API ------------------------------------------------------------------


def test_a_role_change_is_obeyed_by_the_very_next_api_request(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    assert client_api.get(accounts_url(tenant), headers=headers).status_code == 200  # cached as viewer
    assert client_api.post(accounts_url(tenant), headers=headers, json={"name": "Till", "currency": "EUR"}).status_code == 403

    tenancy_services.membership_update(tenant=tenant, actor=team["owner"], membership_id=team["membership"].pk,
                                       role="admin")

    created = client_api.post(accounts_url(tenant), headers=headers, json={"name": "Till", "currency": "EUR"})
    assert created.status_code == 201

    tenancy_services.membership_update(tenant=tenant, actor=team["owner"], membership_id=team["membership"].pk,
                                       role="viewer")
    again = client_api.post(accounts_url(tenant), headers=headers, json={"name": "Till 2", "currency": "EUR"})
    assert again.status_code == 403


def test_a_removed_member_gets_404_on_the_next_api_request(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    assert client_api.get(accounts_url(tenant), headers=headers).status_code == 200

    tenancy_services.membership_remove(tenant=tenant, actor=team["owner"], membership_id=team["membership"].pk)

    assert client_api.get(accounts_url(tenant), headers=headers).status_code == 404
    assert client_api.get(f"/api/v1/tenants/{tenant.pk}", headers=headers).status_code == 404
    slugs = [item["slug"] for item in client_api.get("/api/v1/me", headers=headers).json()["memberships"]]
    assert tenant.slug not in slugs


def test_a_new_member_is_let_in_at_once_although_not_a_member_was_cached(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["outsider"])
    assert client_api.get(accounts_url(tenant), headers=headers).status_code == 404  # "not a member" is cached too

    Membership.objects.create(tenant=tenant, user=team["outsider"], role="member")

    assert client_api.get(accounts_url(tenant), headers=headers).status_code == 200


def test_a_repeated_api_request_reads_the_membership_from_the_cache(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    hits, misses = _count("tenancy.membership", "hit"), _count("tenancy.membership", "miss")
    with count_queries() as first:
        assert client_api.get(accounts_url(tenant), headers=headers).status_code == 200
    with count_queries() as second:
        assert client_api.get(accounts_url(tenant), headers=headers).status_code == 200

    assert len(second) < len(first)
    assert not any("tenancy_membership" in sql for sql in second)
    assert _count("tenancy.membership", "miss") == misses + 1
    assert _count("tenancy.membership", "hit") == hits + 1


def test_a_renamed_tenant_shows_its_new_name_on_the_next_request(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    assert client_api.get(f"/api/v1/tenants/{tenant.slug}", headers=headers).json()["name"] == "Acme"

    tenancy_services.tenant_update(tenant=tenant, actor=team["owner"], changes={"name": "Acme Ltd"})

    assert client_api.get(f"/api/v1/tenants/{tenant.slug}", headers=headers).json()["name"] == "Acme Ltd"
    viewer_page = web(team["viewer"]).get(f"/t/{tenant.slug}/").content.decode()
    assert "Acme Ltd" in viewer_page


def test_after_an_ownership_transfer_the_old_owner_is_an_admin_at_once(client_api, team):
    tenant = team["tenant"]
    owner_headers, viewer_headers = factories.auth_headers(team["owner"]), factories.auth_headers(team["viewer"])
    assert client_api.get(f"/api/v1/tenants/{tenant.slug}", headers=owner_headers).status_code == 200

    tenancy_services.ownership_transfer(tenant=tenant, actor=team["owner"], user_id=team["viewer"].pk)

    assert client_api.delete(f"/api/v1/tenants/{tenant.slug}", headers=owner_headers).status_code == 403
    assert client_api.delete(f"/api/v1/tenants/{tenant.slug}", headers=viewer_headers).status_code == 204
    assert client_api.get(f"/api/v1/tenants/{tenant.slug}", headers=owner_headers).status_code == 404


def test_a_deleted_organization_is_gone_for_every_member_on_the_next_request(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    viewer_web = web(team["viewer"])
    assert client_api.get(accounts_url(tenant), headers=headers).status_code == 200
    assert viewer_web.get(f"/t/{tenant.slug}/").status_code == 200

    tenancy_services.tenant_delete(tenant=tenant, actor=team["owner"])

    assert client_api.get(accounts_url(tenant), headers=headers).status_code == 404
    assert viewer_web.get(f"/t/{tenant.slug}/").status_code == 404


def test_queryset_updates_and_bulk_creates_are_seen_by_the_next_request(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    body = {"name": "Till", "currency": "EUR"}
    assert client_api.post(accounts_url(tenant), headers=headers, json=body).status_code == 403

    Membership.objects.filter(tenant=tenant, user=team["viewer"]).update(role="admin")
    assert client_api.post(accounts_url(tenant), headers=headers, json=body).status_code == 201

    Tenant.objects.filter(pk=tenant.pk).update(name="Renamed by a queryset")
    assert client_api.get(f"/api/v1/tenants/{tenant.slug}", headers=headers).json()["name"] == "Renamed by a queryset"

    outsider = factories.auth_headers(team["outsider"])
    assert client_api.get(accounts_url(tenant), headers=outsider).status_code == 404
    Membership.objects.bulk_create([Membership(tenant=tenant, user=team["outsider"], role="viewer")])
    assert client_api.get(accounts_url(tenant), headers=outsider).status_code == 200


def test_the_writing_transaction_reads_its_own_change_and_caches_nothing_before_commit(team):
    tenant, viewer = team["tenant"], team["viewer"]
    assert tenancy_selectors.membership_get(user=viewer, tenant_ref=tenant.slug).role == "viewer"
    with pytest.raises(RuntimeError), transaction.atomic():
        tenancy_services.membership_update(tenant=tenant, actor=team["owner"], membership_id=team["membership"].pk,
                                           role="member")
        assert tenancy_selectors.membership_get(user=viewer, tenant_ref=tenant.slug).role == "member"
        raise RuntimeError("roll back")
    assert tenancy_selectors.membership_get(user=viewer, tenant_ref=tenant.slug).role == "viewer"


def test_one_persons_change_leaves_other_peoples_cached_look_ups_alone(team):
    tenant = team["tenant"]
    tenancy_selectors.membership_get(user=team["owner"], tenant_ref=tenant.slug)
    hits = _count("tenancy.membership", "hit")

    tenancy_services.membership_update(tenant=tenant, actor=team["owner"], membership_id=team["membership"].pk,
                                       role="member")

    assert tenancy_selectors.membership_get(user=team["owner"], tenant_ref=tenant.slug).role == "owner"
    assert _count("tenancy.membership", "hit") == hits + 1


# --- web ------------------------------------------------------------------


def test_a_role_change_is_obeyed_by_the_very_next_page(team):
    tenant, client = team["tenant"], web(team["viewer"])
    new_account = f"/t/{tenant.slug}/accounts/new/"
    assert client.get(new_account).status_code == 403

    tenancy_services.membership_update(tenant=tenant, actor=team["owner"], membership_id=team["membership"].pk,
                                       role="admin")

    assert client.get(new_account).status_code == 200


def test_a_removed_member_gets_404_on_the_next_page_and_loses_the_switcher_entry(team):
    tenant, client = team["tenant"], web(team["viewer"])
    personal = Membership.objects.get(user=team["viewer"], tenant__kind="personal").tenant
    assert "Acme" in client.get(f"/t/{personal.slug}/").content.decode()

    tenancy_services.membership_remove(tenant=tenant, actor=team["owner"], membership_id=team["membership"].pk)

    assert client.get(f"/t/{tenant.slug}/").status_code == 404
    assert "Acme" not in client.get(f"/t/{personal.slug}/").content.decode()


def test_a_repeated_page_reads_the_membership_and_the_switcher_from_the_cache(team):
    client = web(team["viewer"])
    url = f"/t/{team['tenant'].slug}/accounts/"
    with count_queries() as first:
        assert client.get(url).status_code == 200
    with count_queries() as second:
        assert client.get(url).status_code == 200
    assert len(second) <= len(first) - 2
    assert not any("tenancy_membership" in sql for sql in second)
