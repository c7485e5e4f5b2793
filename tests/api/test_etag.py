"""Conditional GETs: an ETag on successful JSON reads, 304 with no body when it still matches, a new tag
after a write, and never a 304 that would hide content different from what the caller holds."""

from __future__ import annotations

import pytest

from coffer.api import etag
from tests import factories


@pytest.fixture
def team(transactional_db):
    owner, viewer = factories.user(name="Owner"), factories.user(name="Viewer")
    tenant = factories.organization(owner, name="Acme", viewer=[viewer])
    factories.account(tenant, name="Main")
    return {"tenant": tenant, "owner": owner, "viewer": viewer}


def url(tenant, rest: str = "accounts") -> str:
    return f"/api/v1/tenants/{tenant.slug}/{rest}"


@pytest.mark.parametrize("rest", ["accounts", "members"])  # a ledger read (version tag), another (body hash)
def test_a_read_carries_an_etag_and_private_revalidation_headers(client_api, team, rest):
    response = client_api.get(url(team["tenant"], rest), headers=factories.auth_headers(team["viewer"]))
    assert response.status_code == 200
    assert response.headers["etag"].startswith('W/"')
    assert "private" in response.headers["cache-control"] and "no-cache" in response.headers["cache-control"]
    vary = {part.strip().lower() for part in response.headers["vary"].split(",")}
    assert {"authorization", "cookie"} <= vary


def test_a_read_outside_the_ledger_is_tagged_by_its_body(client_api, team):
    response = client_api.get(url(team["tenant"], "members"), headers=factories.auth_headers(team["viewer"]))
    assert response.headers["etag"] == etag.etag_for(response.content)


def test_a_ledger_read_gets_its_304_before_the_route_queries_or_serialises_anything(client_api, team, monkeypatch):
    from coffer.ledger import selectors as ledger_selectors

    headers = factories.auth_headers(team["viewer"])
    tag = client_api.get(url(team["tenant"]), headers=headers).headers["etag"]
    assert tag != etag.etag_for(client_api.get(url(team["tenant"]), headers=headers).content)  # not a body hash

    def route_ran(**kwargs):
        raise AssertionError("the route ran for a 304")

    monkeypatch.setattr(ledger_selectors, "account_page", route_ran)
    again = client_api.get(url(team["tenant"]), headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and "private" in again.headers["cache-control"]


@pytest.mark.parametrize("rest", ["accounts", "transactions", "categories", "tags", "budgets", "exchange-rates",
                                  "rules", "transfers", "reports/cashflow"])
def test_every_ledger_read_changes_its_tag_after_any_write_to_the_tenant(client_api, team, rest):
    tenant, reader = team["tenant"], factories.auth_headers(team["viewer"])
    old = client_api.get(url(tenant, rest), headers=reader).headers["etag"]
    assert client_api.get(url(tenant, rest), headers={**reader, "If-None-Match": old}).status_code == 304

    created = client_api.post(url(tenant, "tags"), headers=factories.auth_headers(team["owner"]), json={"name": "x"})
    assert created.status_code == 201

    fresh = client_api.get(url(tenant, rest), headers={**reader, "If-None-Match": old})
    assert fresh.status_code == 200 and fresh.headers["etag"] != old


def test_a_version_tag_belongs_to_the_caller_the_query_and_the_role(client_api, team):
    from coffer.tenancy import services as tenancy_services
    from coffer.tenancy.models import Membership

    tenant, viewer = team["tenant"], factories.auth_headers(team["viewer"])
    tag = client_api.get(url(tenant), headers=viewer).headers["etag"]

    owner_with_it = client_api.get(url(tenant), headers={**factories.auth_headers(team["owner"]), "If-None-Match": tag})
    assert owner_with_it.status_code == 200 and owner_with_it.headers["etag"] != tag
    other_query = client_api.get(url(tenant), headers={**viewer, "If-None-Match": tag}, params={"limit": 1})
    assert other_query.status_code == 200

    membership = Membership.objects.get(tenant=tenant, user=team["viewer"])
    tenancy_services.membership_update(tenant=tenant, actor=team["owner"], membership_id=membership.pk,
                                       role="member")
    assert client_api.get(url(tenant), headers={**viewer, "If-None-Match": tag}).status_code == 200


def test_a_missing_row_is_404_even_for_if_none_match_star(client_api, team):
    headers = {**factories.auth_headers(team["viewer"]), "If-None-Match": "*"}
    missing = client_api.get(url(team["tenant"], "accounts/0190a0a0-0000-7000-8000-000000000000"), headers=headers)
    assert missing.status_code == 404
    assert client_api.get(url(team["tenant"]), headers=headers).status_code == 304


def test_a_matching_if_none_match_gets_304_with_no_body(client_api, team):
    headers = factories.auth_headers(team["viewer"])
    first = client_api.get(url(team["tenant"]), headers=headers)
    tag = first.headers["etag"]

    for sent in (tag, tag.removeprefix("W/"), f'"other", {tag}', "*"):
        again = client_api.get(url(team["tenant"]), headers={**headers, "If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == tag
        assert "private" in again.headers["cache-control"]
        assert "content-type" not in again.headers


def test_a_stale_tag_gets_the_full_answer(client_api, team):
    headers = factories.auth_headers(team["viewer"])
    response = client_api.get(url(team["tenant"]), headers={**headers, "If-None-Match": 'W/"0123", "abcd"'})
    assert response.status_code == 200
    assert response.json()["items"][0]["name"] == "Main"


def test_after_a_write_the_same_tag_gets_200_with_a_new_tag(client_api, team):
    tenant, reader, writer = team["tenant"], factories.auth_headers(team["viewer"]), factories.auth_headers(team["owner"])
    old = client_api.get(url(tenant), headers=reader).headers["etag"]

    created = client_api.post(url(tenant), headers=writer, json={"name": "Savings", "currency": "EUR"})
    assert created.status_code == 201

    fresh = client_api.get(url(tenant), headers={**reader, "If-None-Match": old})
    assert fresh.status_code == 200
    assert {item["name"] for item in fresh.json()["items"]} == {"Main", "Savings"}
    assert fresh.headers["etag"] != old
    assert client_api.get(url(tenant), headers={**reader, "If-None-Match": fresh.headers["etag"]}).status_code == 304


def test_another_tenant_or_person_never_gets_a_304_for_other_content(client_api, team):
    tenant = team["tenant"]
    tag = client_api.get(url(tenant), headers=factories.auth_headers(team["viewer"])).headers["etag"]
    stranger = factories.user(name="Stranger")
    elsewhere = factories.organization(stranger, name="Elsewhere")
    factories.account(elsewhere, name="Other")
    stranger_headers = {**factories.auth_headers(stranger), "If-None-Match": tag}

    theirs = client_api.get(url(elsewhere), headers=stranger_headers)
    assert theirs.status_code == 200 and theirs.json()["items"][0]["name"] == "Other"
    assert client_api.get(url(tenant), headers=stranger_headers).status_code == 404  # not a member: no 304

    me_tag = client_api.get("/api/v1/me", headers=factories.auth_headers(team["viewer"])).headers["etag"]
    owner_me = client_api.get("/api/v1/me", headers={**factories.auth_headers(team["owner"]), "If-None-Match": me_tag})
    assert owner_me.status_code == 200 and owner_me.json()["email"] == team["owner"].email


def test_writes_and_errors_carry_no_etag_and_ignore_if_none_match(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    tag = client_api.get(url(tenant), headers=headers).headers["etag"]
    guarded = {**headers, "If-None-Match": "*"}

    created = client_api.post(url(tenant), headers=guarded, json={"name": "Till", "currency": "EUR"})
    assert created.status_code == 201 and "etag" not in created.headers
    missing = client_api.get(url(tenant, "accounts/0190a0a0-0000-7000-8000-000000000000"), headers=guarded)
    assert missing.status_code == 404 and "etag" not in missing.headers
    unsigned = client_api.get(url(tenant), headers={"If-None-Match": tag})
    assert unsigned.status_code == 401 and "etag" not in unsigned.headers
    bad = client_api.get(url(tenant), headers=headers, params={"limit": 0})
    assert bad.status_code == 422 and "etag" not in bad.headers


def test_a_removed_member_gets_404_not_304(client_api, team):
    from coffer.tenancy import services as tenancy_services
    from coffer.tenancy.models import Membership

    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    tag = client_api.get(url(tenant), headers=headers).headers["etag"]
    membership = Membership.objects.get(tenant=tenant, user=team["viewer"])

    tenancy_services.membership_remove(tenant=tenant, actor=team["owner"], membership_id=membership.pk)

    assert client_api.get(url(tenant), headers={**headers, "If-None-Match": tag}).status_code == 404


@pytest.mark.parametrize(
    ("header", "matches"),
    [('W/"abc"', True), ('"abc"', True), ('"x", W/"abc"', True), ("*", True), ('"abcd"', False), ("", False),
     ('W/"ab"', False)],
)
def test_if_none_match_uses_the_weak_comparison(header, matches):
    assert etag.if_none_match_matches(header, 'W/"abc"') is matches
