"""/api/v1/tenants/{tenant}/exchange-rates through the whole ASGI app."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer.audit.models import AuditEntry
from coffer.ledger.models import ExchangeRate
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/exchange-rates", *map(str, rest)])


def state(tenant) -> tuple:
    return (
        sorted(ExchangeRate.objects.filter(tenant=tenant).values_list("pk", "date", "from_currency", "to_currency", "rate")),
        AuditEntry.objects.filter(tenant=tenant).count(),
    )


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


def rate(tenant, day=dt.date(2024, 1, 31), source="USD", target="EUR", value="0.9"):
    return ExchangeRate.objects.create(tenant=tenant, date=day, from_currency=source, to_currency=target, rate=Decimal(value))


def test_an_admin_creates_reads_changes_and_deletes_a_rate(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    created = client_api.post(url(tenant), headers=headers,
                              json={"date": "2024-01-31", "from_currency": "usd", "to_currency": "EUR", "rate": "0.92500"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("date", "from_currency", "to_currency", "rate")} == {
        "date": "2024-01-31", "from_currency": "USD", "to_currency": "EUR", "rate": "0.925"}
    assert client_api.get(url(tenant, body["id"]), headers=headers).json() == body
    changed = client_api.patch(url(tenant, body["id"]), headers=headers, json={"rate": "0.93", "date": "2024-02-01"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["rate"], changed.json()["date"]) == ("0.93", "2024-02-01")
    assert client_api.delete(url(tenant, body["id"]), headers=headers).status_code == 204
    assert not ExchangeRate.objects.filter(tenant=tenant).exists()
    assert AuditEntry.objects.filter(tenant=tenant, action__startswith="exchange_rate.").count() == 3


@pytest.mark.parametrize("body, field", [
    ({"rate": 0.9}, "rate"),  # a float
    ({"rate": "0"}, "rate"),
    ({"rate": "-1"}, "rate"),
    ({"rate": "1.00000000001"}, "rate"),
    ({"to_currency": "USD"}, "to_currency"),
    ({"from_currency": "DOLLARS"}, "from_currency"),
    ({"date": "2024-02-30"}, "date"),
    ({"source": "ecb"}, "source"),
])
def test_bad_rates_are_refused_with_the_field_and_nothing_is_written(client_api, team, body, field):
    tenant = team["tenant"]
    before = state(tenant)
    payload = {"date": "2024-01-31", "from_currency": "USD", "to_currency": "EUR", "rate": "0.9", **body}
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["admin"]), json=payload)
    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
    assert state(tenant) == before


def test_a_second_rate_for_the_same_pair_and_day_is_a_conflict(client_api, team):
    tenant = team["tenant"]
    rate(tenant)
    before = state(tenant)
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["owner"]),
                               json={"date": "2024-01-31", "from_currency": "USD", "to_currency": "EUR", "rate": "1"})
    assert response.status_code == 409
    assert state(tenant) == before


def test_the_list_is_paged_newest_first_with_bounded_queries(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    for day in range(1, 8):
        rate(tenant, day=dt.date(2024, 1, day))
    rate(tenant, day=dt.date(2024, 1, 3), source="GBP", value="1.15")
    seen, cursor = [], None
    while True:
        with count_queries() as queries:
            page = client_api.get(url(tenant), headers=headers, params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        assert len(queries) <= 5
        seen += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert len(seen) == 8 and [r["date"] for r in seen] == sorted((r["date"] for r in seen), reverse=True)
    gbp = client_api.get(url(tenant), headers=headers, params={"currency": "GBP"}).json()["items"]
    assert [(r["from_currency"], r["rate"]) for r in gbp] == [("GBP", "1.15")]


@pytest.mark.parametrize("role, allowed", [("owner", True), ("admin", True), ("member", False), ("viewer", False)])
def test_only_admins_and_owners_write_rates(client_api, team, role, allowed):
    tenant, headers = team["tenant"], factories.auth_headers(team[role])
    existing = rate(tenant)
    before = state(tenant)
    created = client_api.post(url(tenant), headers=headers,
                              json={"date": "2024-03-01", "from_currency": "USD", "to_currency": "EUR", "rate": "0.9"})
    patched = client_api.patch(url(tenant, existing.pk), headers=headers, json={"rate": "0.8"})
    deleted = client_api.delete(url(tenant, existing.pk), headers=headers)
    statuses = (created.status_code, patched.status_code, deleted.status_code)
    if allowed:
        assert statuses == (201, 200, 204)
    else:
        assert statuses == (403, 403, 403)
        assert state(tenant) == before
    assert client_api.get(url(tenant), headers=headers).status_code == 200


def test_another_tenants_rates_are_not_found_and_not_changed(client_api, team):
    tenant = team["tenant"]
    ours = rate(tenant)
    intruder = factories.user()
    theirs = factories.organization(intruder)
    headers = factories.auth_headers(intruder)
    before = state(tenant)
    assert client_api.get(url(tenant), headers=headers).status_code == 404
    assert client_api.get(url(theirs, ours.pk), headers=headers).status_code == 404
    assert client_api.patch(url(theirs, ours.pk), headers=headers, json={"rate": "5"}).status_code == 404
    assert client_api.delete(url(theirs, ours.pk), headers=headers).status_code == 404
    assert client_api.get(url(theirs), headers=headers).json() == {"items": [], "next": None}
    assert state(tenant) == before
