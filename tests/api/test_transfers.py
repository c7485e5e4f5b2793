"""/api/v1/tenants/{tenant}/transfers through the whole ASGI app."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from coffer.audit.models import AuditEntry
from coffer.ledger.models import Transaction, TransferDismissal
from tests import factories
from tests.querycount import count_queries

D = dt.date(2024, 5, 10)


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/transfers", *map(str, rest)])


def state(tenant) -> tuple:
    """Everything a transfer write could change in a tenant."""
    return (
        sorted(Transaction.objects.filter(tenant=tenant).values_list("pk", "transfer_pair_id")),
        sorted(TransferDismissal.objects.filter(tenant=tenant).values_list("outflow_id", "inflow_id")),
        AuditEntry.objects.filter(tenant=tenant).count(),
    )


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    checking = factories.account(tenant, name="Checking", currency="EUR")
    savings = factories.account(tenant, name="Savings", currency="EUR")
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer,
            "checking": checking, "savings": savings}


def pair(team, amount="250.00", day=D):
    out = factories.transaction(team["checking"], amount=f"-{amount}", booked_on=day, description="To savings")
    into = factories.transaction(team["savings"], amount=amount, booked_on=day + dt.timedelta(days=1))
    return out, into


def test_a_member_detects_lists_reads_and_unlinks_transfers(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["member"])
    out, into = pair(team)
    detected = client_api.post(url(tenant, "detect"), headers=headers, json={})
    assert detected.status_code == 200, detected.text
    assert detected.json() == {"linked": 1}
    listed = client_api.get(url(tenant), headers=factories.auth_headers(team["viewer"]))
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["outflow"] == {
        "id": str(out.pk), "account_id": str(team["checking"].pk), "booked_on": "2024-05-10", "amount": "-250.00",
        "currency": "EUR", "description": "To savings", "counterparty": "",
    }
    assert (item["inflow"]["id"], item["inflow"]["amount"]) == (str(into.pk), "250.00")
    assert client_api.get(url(tenant, into.pk), headers=headers).json() == item
    gone = client_api.delete(url(tenant, out.pk), headers=headers)
    assert gone.status_code == 204, gone.text
    assert Transaction.objects.get(pk=into.pk).transfer_pair_id is None
    assert client_api.get(url(tenant, into.pk), headers=headers).status_code == 404
    assert client_api.post(url(tenant, "detect"), headers=headers, json={}).json() == {"linked": 0}


def test_a_member_links_by_hand_and_bad_links_are_refused_with_reasons(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["member"])
    out, into = pair(team, day=D)
    far = factories.transaction(team["savings"], amount="99.00", booked_on=D)
    before = state(tenant)
    wrong = client_api.post(url(tenant), headers=headers, json={"transaction_id": str(out.pk), "pair_id": str(far.pk)})
    assert wrong.status_code == 422, wrong.text
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["errors"][0]["field"] == "pair_id"
    unknown = client_api.post(url(tenant), headers=headers, json={"transaction_id": str(out.pk), "pair_id": "nope"})
    assert unknown.status_code == 422
    extra = client_api.post(url(tenant), headers=headers,
                            json={"transaction_id": str(out.pk), "pair_id": str(into.pk), "note": "x"})
    assert extra.status_code == 422
    assert state(tenant) == before
    linked = client_api.post(url(tenant), headers=headers, json={"transaction_id": str(into.pk), "pair_id": str(out.pk)})
    assert linked.status_code == 201, linked.text
    assert (linked.json()["outflow"]["id"], linked.json()["inflow"]["id"]) == (str(out.pk), str(into.pk))
    again = client_api.post(url(tenant), headers=headers, json={"transaction_id": str(far.pk), "pair_id": str(out.pk)})
    assert again.status_code == 409


@pytest.mark.parametrize("role, allowed", [("owner", True), ("admin", True), ("member", True), ("viewer", False)])
def test_only_members_and_up_write_transfers(client_api, team, role, allowed):
    tenant, headers = team["tenant"], factories.auth_headers(team[role])
    out, into = pair(team)
    before = state(tenant)
    calls = [
        ("post", url(tenant, "detect"), {}),
        ("delete", url(tenant, out.pk), None),
        ("post", url(tenant), {"transaction_id": str(out.pk), "pair_id": str(into.pk)}),
    ]
    statuses = []
    for method, path, body in calls:
        response = client_api.request(method.upper(), path, headers=headers, json=body)
        statuses.append(response.status_code)
    if allowed:
        assert statuses == [200, 204, 201]
    else:
        assert statuses == [403, 403, 403]
        assert state(tenant) == before
    assert client_api.get(url(tenant), headers=headers).status_code == 200


def test_another_tenants_transactions_are_not_found_and_nothing_changes(client_api, team):
    tenant = team["tenant"]
    out, into = pair(team)
    client_api.post(url(tenant, "detect"), headers=factories.auth_headers(team["member"]), json={})
    intruder = factories.user()
    theirs = factories.organization(intruder)
    their_account = factories.account(theirs, currency="EUR")
    their_in = factories.transaction(their_account, amount="250.00", booked_on=D)
    headers = factories.auth_headers(intruder)
    before, theirs_before = state(tenant), state(theirs)
    assert client_api.get(url(tenant), headers=headers).status_code == 404  # not a member
    assert client_api.get(url(theirs, out.pk), headers=headers).status_code == 404
    assert client_api.delete(url(theirs, out.pk), headers=headers).status_code == 404
    link = client_api.post(url(theirs), headers=headers, json={"transaction_id": str(their_in.pk), "pair_id": str(out.pk)})
    assert link.status_code == 404
    assert client_api.post(url(theirs, "detect"), headers=headers, json={}).json() == {"linked": 0}
    assert client_api.get(url(theirs), headers=headers).json() == {"items": [], "next": None}
    assert state(tenant) == before and state(theirs) == theirs_before
    assert client_api.get(url(tenant, uuid.uuid4()), headers=factories.auth_headers(team["member"])).status_code == 404


def test_the_list_is_paged_with_a_bounded_number_of_queries(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    for day in range(1, 8):
        pair(team, amount=f"{day}.00", day=dt.date(2024, 6, day))
    client_api.post(url(tenant, "detect"), headers=factories.auth_headers(team["member"]), json={})
    seen, cursor = [], None
    while True:
        with count_queries() as queries:
            page = client_api.get(url(tenant), headers=headers, params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        assert len(queries) <= 6  # auth, membership, one page with both sides and accounts joined
        seen += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert [item["outflow"]["booked_on"] for item in seen] == [f"2024-06-0{d}" for d in range(7, 0, -1)]
    assert client_api.get(url(tenant), headers=headers, params={"cursor": "bad"}).status_code == 422


def test_patching_a_sides_amount_through_the_api_unlinks_the_pair(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["member"])
    out, into = pair(team)
    assert client_api.post(url(tenant), headers=headers,
                           json={"transaction_id": str(out.pk), "pair_id": str(into.pk)}).status_code == 201
    response = client_api.patch(f"/api/v1/tenants/{tenant.slug}/transactions/{into.pk}", headers=headers,
                                json={"amount": "245.00"})
    assert response.status_code == 200, response.text
    assert client_api.get(url(tenant, out.pk), headers=headers).status_code == 404
    assert client_api.get(url(tenant), headers=headers).json()["items"] == []
    entry = AuditEntry.objects.filter(tenant=tenant, action="transaction.update").latest("created_at")
    assert entry.changes["transfer_pair"] == [str(out.pk), None]


def test_a_refused_patch_keeps_the_pair(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["member"])
    out, into = pair(team)
    client_api.post(url(tenant), headers=headers, json={"transaction_id": str(out.pk), "pair_id": str(into.pk)})
    before = state(tenant)
    response = client_api.patch(f"/api/v1/tenants/{tenant.slug}/transactions/{into.pk}", headers=headers,
                                json={"amount": "1.23456"})
    assert response.status_code == 422, response.text
    assert state(tenant) == before
