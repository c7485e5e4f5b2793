"""/api/v1/tenants/{tenant}/transactions/suggestions through the whole ASGI app."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from coffer.audit.models import AuditEntry
from coffer.ledger.models import Category, Transaction
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/transactions/suggestions", *map(str, rest)])


def named(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def rows(tenant) -> tuple:
    return (
        sorted(Transaction.objects.filter(tenant=tenant).values_list("pk", "category_id", "category_source")),
        AuditEntry.objects.filter(tenant=tenant).count(),
    )


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    account = factories.account(tenant)
    for day in (1, 2, 3):
        factories.transaction(account, amount="-30", description="LIDL DIENSTL 4411", counterparty="Lidl",
                              booked_on=dt.date(2024, 1, day), category_id=named(tenant, "Groceries").pk)
    return {"tenant": tenant, "account": account, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


def uncategorized(team, description="", counterparty="", day=10):
    return factories.transaction(team["account"], amount="-12", description=description, counterparty=counterparty,
                                 booked_on=dt.date(2024, 2, day))


def test_uncategorized_transactions_are_listed_newest_first_with_their_suggestion_a_page_at_a_time(client_api, team):
    tenant = team["tenant"]
    lidl = uncategorized(team, "LIDL DIENSTL 9", "LIDL", day=12)
    unknown = uncategorized(team, "Parking meter", day=11)
    older = uncategorized(team, "Lidl sagt danke", "Lidl Stiftung", day=10)
    headers = factories.auth_headers(team["viewer"])
    first = client_api.get(url(tenant), headers=headers, params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["transaction"]["id"] for item in page["items"]] == [str(lidl.pk), str(unknown.pk)]
    assert page["items"][0]["suggestion"] == {
        "category_id": str(named(tenant, "Groceries").pk), "category_name": "Food / Groceries", "confidence": 0.75,
        "basis": "counterparty", "seen": 3,
    }
    assert page["items"][0]["transaction"]["category_id"] is None
    assert page["items"][1]["suggestion"] is None
    second = client_api.get(url(tenant), headers=headers, params={"limit": 2, "cursor": page["next"]}).json()
    assert [item["transaction"]["id"] for item in second["items"]] == [str(older.pk)]
    assert second["items"][0]["suggestion"]["basis"] == "similar_counterparty"
    assert second["next"] is None
    # The transaction routes still answer beside this one.
    assert client_api.get(f"/api/v1/tenants/{tenant.slug}/transactions/{lidl.pk}", headers=headers).status_code == 200


def test_a_member_accepts_a_suggestion_in_one_call_and_it_counts_as_set_by_hand(client_api, team):
    tenant = team["tenant"]
    row = uncategorized(team, "LIDL 55", "Lidl")
    response = client_api.post(url(tenant, row.pk, "accept"), headers=factories.auth_headers(team["member"]))
    assert response.status_code == 200, response.text
    assert (response.json()["category_id"], response.json()["category_source"]) == (
        str(named(tenant, "Groceries").pk), "manual")
    assert AuditEntry.objects.filter(tenant=tenant, action="suggestion.accept", object_id=str(row.pk),
                                     actor=team["member"]).count() == 1
    listed = client_api.get(url(tenant), headers=factories.auth_headers(team["member"])).json()
    assert str(row.pk) not in {item["transaction"]["id"] for item in listed["items"]}


def test_accepting_with_the_listed_category_id(client_api, team):
    tenant = team["tenant"]
    row = uncategorized(team, "Parking meter")
    response = client_api.post(url(tenant, row.pk, "accept"), headers=factories.auth_headers(team["admin"]),
                               json={"category_id": str(named(tenant, "Car").pk)})
    assert response.status_code == 200, response.text
    assert response.json()["category_id"] == str(named(tenant, "Car").pk)


@pytest.mark.parametrize(("setup", "body", "status", "words"), [
    ("categorized", None, 409, "already categorized"),
    ("unknown", None, 409, "no suggestion"),
    ("unknown", {"category_id": str(uuid.uuid4())}, 422, "No such category"),
    ("unknown", {"category_id": "groceries"}, 422, "uuid"),
    ("unknown", {"category_id": None, "confidence": 1}, 422, "Extra inputs"),
    ("missing", None, 404, "No such transaction"),
])
def test_accepting_is_refused_clearly_and_changes_nothing(client_api, team, setup, body, status, words):
    tenant = team["tenant"]
    row = {
        "categorized": lambda: Transaction.objects.filter(tenant=tenant).exclude(category=None).first(),
        "unknown": lambda: uncategorized(team, "Parking meter"),
        "missing": lambda: Transaction(pk=uuid.uuid4()),
    }[setup]()
    before = rows(tenant)
    response = client_api.post(url(tenant, row.pk, "accept"), headers=factories.auth_headers(team["member"]),
                               **({"json": body} if body is not None else {}))
    assert response.status_code == status, response.text
    assert words.lower() in response.text.lower()
    assert rows(tenant) == before


def test_viewers_read_suggestions_but_cannot_accept_them(client_api, team):
    tenant = team["tenant"]
    row = uncategorized(team, "LIDL 55", "Lidl")
    headers = factories.auth_headers(team["viewer"])
    before = rows(tenant)
    response = client_api.post(url(tenant, row.pk, "accept"), headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role (viewer) does not allow this"
    assert rows(tenant) == before
    assert client_api.get(url(tenant), headers=headers).status_code == 200


def test_another_tenants_transactions_and_categories_stay_out_of_reach(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    other = factories.organization(factories.user())
    theirs = factories.transaction(factories.account(other), amount="-9", description="LIDL secret", counterparty="Lidl")
    mine = uncategorized(team, "Parking meter")
    before, before_theirs = rows(tenant), rows(other)
    response = client_api.post(url(tenant, theirs.pk, "accept"), headers=headers,
                               json={"category_id": str(named(tenant, "Groceries").pk)})
    assert response.status_code == 404
    assert "secret" not in response.text
    response = client_api.post(url(tenant, mine.pk, "accept"), headers=headers,
                               json={"category_id": str(named(other, "Groceries").pk)})
    assert response.status_code == 422
    listed = client_api.get(url(tenant), headers=headers, params={"limit": 100}).text
    assert str(theirs.pk) not in listed and "secret" not in listed
    assert rows(tenant) == before
    assert rows(other) == before_theirs


def test_a_tenant_you_do_not_belong_to_is_404_for_suggestions(client_api, team):
    tenant = team["tenant"]
    row = uncategorized(team, "LIDL 55", "Lidl")
    headers = factories.auth_headers(factories.user())
    before = rows(tenant)
    for method, path in [("GET", url(tenant)), ("POST", url(tenant, row.pk, "accept"))]:
        response = client_api.request(method, path, headers=headers)
        assert response.status_code == 404
        assert response.json()["detail"] == "No such tenant"
    assert rows(tenant) == before


def test_a_page_of_suggestions_runs_a_fixed_number_of_queries(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    client_api.get(url(tenant), headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for extra in (3, 40):
        Transaction.objects.bulk_create(
            Transaction(tenant=tenant, account=team["account"], booked_on=dt.date(2024, 3, 1), amount=-4,
                        description=f"lidl {i}", counterparty="Lidl")
            for i in range(extra)
        )
        with count_queries() as queries:
            response = client_api.get(url(tenant), headers=headers, params={"limit": 100})
        assert len(response.json()["items"]) == Transaction.objects.filter(tenant=tenant, category=None).count()
        counts.append(len(queries))
    assert counts[0] == counts[1]
