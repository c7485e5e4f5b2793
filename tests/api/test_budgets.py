"""/api/v1/tenants/{tenant}/budgets through the whole ASGI app."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from coffer.audit.models import AuditEntry
from coffer.insights import reports
from coffer.ledger.models import Budget, Category
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/budgets", *map(str, rest)])


def state(tenant) -> tuple:
    return (
        sorted(Budget.objects.filter(tenant=tenant).values_list("pk", "category_id", "period", "amount", "currency",
                                                                "rollover", "starts_on")),
        AuditEntry.objects.filter(tenant=tenant).count(),
    )


def category(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    account = factories.account(tenant, name="Checking", currency="EUR")
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer, "account": account}


def test_an_admin_creates_reads_changes_and_deletes_a_budget_with_its_progress(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    groceries = category(tenant, "Groceries")
    factories.transaction(team["account"], amount="-85.00", booked_on=dt.date(2024, 2, 3), category_id=groceries.pk)
    factories.transaction(team["account"], amount="5.00", booked_on=dt.date(2024, 2, 4), category_id=groceries.pk)
    created = client_api.post(url(tenant), headers=headers, json={
        "category_id": str(category(tenant, "Food").pk), "amount": "100", "starts_on": "2024-02-10",
    })
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["category_name"], body["period"], body["amount"], body["currency"], body["rollover"], body["starts_on"]) == (
        "Food", "monthly", "100.00", "EUR", False, "2024-02-01")
    detail = client_api.get(url(tenant, body["id"]), headers=headers, params={"on": "2024-02-15"})
    assert detail.status_code == 200, detail.text
    assert detail.json()["progress"] == {
        "period_start": "2024-02-01", "period_end": "2024-02-29", "budgeted": "100.00", "carried_over": "0.00",
        "available": "100.00", "spent": "80.00", "left": "20.00", "percent": "80.0", "projected": "154.6667",
        "status": "warning", "unconverted": {}, "rates": [],
    }
    changed = client_api.patch(url(tenant, body["id"]), headers=headers, json={"amount": "200.00", "period": "yearly"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["amount"], changed.json()["period"], changed.json()["starts_on"]) == ("200.00", "yearly", "2024-01-01")
    assert client_api.delete(url(tenant, body["id"]), headers=headers).status_code == 204
    assert not Budget.objects.filter(tenant=tenant).exists()
    assert list(AuditEntry.objects.filter(tenant=tenant, action__startswith="budget.").order_by("created_at")
                .values_list("action", "actor_id")) == [
        (action, team["admin"].pk) for action in ("budget.create", "budget.update", "budget.delete")]


def test_list_and_alerts_show_progress_for_the_day_asked_with_bounded_queries(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    for name, spent in (("Food", "120.00"), ("Shopping", "85.00"), ("Health", "1.00"), ("Leisure", "0.50")):
        Budget.objects.create(tenant=tenant, category=category(tenant, name), amount="100", currency="EUR",
                              starts_on=dt.date(2024, 1, 1))
        factories.transaction(team["account"], amount=f"-{spent}", booked_on=dt.date(2024, 3, 31),
                              category_id=category(tenant, name).pk)
    with count_queries() as queries:
        listed = client_api.get(url(tenant), headers=headers, params={"on": "2024-03-31"})
    assert listed.status_code == 200, listed.text
    assert len(queries) <= 6
    assert [(b["category_name"], b["progress"]["status"]) for b in listed.json()["items"]] == [
        ("Food", "over"), ("Health", "ok"), ("Leisure", "ok"), ("Shopping", "warning")]
    alerts = client_api.get(url(tenant, "alerts"), headers=headers, params={"on": "2024-03-31"})
    assert alerts.status_code == 200, alerts.text
    assert [(a["level"], a["budget"]["category_name"], a["message"]) for a in alerts.json()["items"]] == [
        ("over", "Food", "Food: 20.00 EUR over budget"), ("warning", "Shopping", "Shopping: 85.0% of the budget spent")]
    april = client_api.get(url(tenant, "alerts"), headers=headers, params={"on": "2024-04-01"}).json()
    assert april == {"on": "2024-04-01", "items": []}


def test_without_a_day_progress_is_for_today_in_the_persons_time_zone(client_api, team):
    team["viewer"].time_zone = "Pacific/Kiritimati"
    team["viewer"].save(update_fields=["time_zone"])
    listed = client_api.get(url(team["tenant"]), headers=factories.auth_headers(team["viewer"]))
    assert listed.json()["on"] == reports.today_in("Pacific/Kiritimati").isoformat()


@pytest.mark.parametrize("body, field", [
    ({"category_id": "INCOME", "amount": "10"}, "category_id"),
    ({"category_id": "Food", "amount": "0"}, "amount"),
    ({"category_id": "Food", "amount": 10.5}, "amount"),  # a float
    ({"category_id": "Food", "amount": "10", "period": "weekly"}, "period"),
    ({"category_id": "Food", "amount": "10", "currency": "EURO"}, "currency"),
    ({"category_id": "Food", "amount": "10", "rollover": "yes"}, "rollover"),
    ({"category_id": "Food", "amount": "10", "colour": "red"}, "colour"),
    ({"category_id": str(uuid.uuid4()), "amount": "10"}, "category_id"),
])
def test_bad_budgets_are_refused_with_the_field_and_nothing_is_written(client_api, team, body, field):
    tenant = team["tenant"]
    names = {"INCOME": "Salary", "Food": "Food"}
    body = {**body, "category_id": str(category(tenant, names[body["category_id"]]).pk)} if body["category_id"] in names else body
    before = state(tenant)
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["admin"]), json=body)
    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
    assert state(tenant) == before


def test_a_second_budget_for_a_category_is_a_conflict(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    body = {"category_id": str(category(tenant, "Food").pk), "amount": "10"}
    assert client_api.post(url(tenant), headers=headers, json=body).status_code == 201
    before = state(tenant)
    assert client_api.post(url(tenant), headers=headers, json=body).status_code == 409
    assert state(tenant) == before


@pytest.mark.parametrize("role, allowed", [("owner", True), ("admin", True), ("member", False), ("viewer", False)])
def test_only_admins_and_owners_write_budgets(client_api, team, role, allowed):
    tenant, headers = team["tenant"], factories.auth_headers(team[role])
    existing = Budget.objects.create(tenant=tenant, category=category(tenant, "Health"), amount="10", currency="EUR",
                                     starts_on=dt.date(2024, 1, 1))
    before = state(tenant)
    food = str(category(tenant, "Food").pk)
    created = client_api.post(url(tenant), headers=headers, json={"category_id": food, "amount": "10"})
    patched = client_api.patch(url(tenant, existing.pk), headers=headers, json={"amount": "20"})
    deleted = client_api.delete(url(tenant, existing.pk), headers=headers)
    if allowed:
        assert (created.status_code, patched.status_code, deleted.status_code) == (201, 200, 204)
    else:
        assert (created.status_code, patched.status_code, deleted.status_code) == (403, 403, 403)
        assert state(tenant) == before
    assert client_api.get(url(tenant), headers=headers).status_code == 200


def test_another_tenants_budgets_and_categories_are_not_found(client_api, team):
    tenant = team["tenant"]
    budget = Budget.objects.create(tenant=tenant, category=category(tenant, "Food"), amount="10", currency="EUR",
                                   starts_on=dt.date(2024, 1, 1))
    intruder = factories.user()
    theirs = factories.organization(intruder)
    headers = factories.auth_headers(intruder)
    before = state(tenant)
    assert client_api.get(url(tenant), headers=headers).status_code == 404
    assert client_api.get(url(theirs, budget.pk), headers=headers).status_code == 404
    assert client_api.patch(url(theirs, budget.pk), headers=headers, json={"amount": "99"}).status_code == 404
    assert client_api.delete(url(theirs, budget.pk), headers=headers).status_code == 404
    # a budget in their tenant for our category: no such category there
    ours = str(category(tenant, "Food").pk)
    response = client_api.post(url(theirs), headers=headers, json={"category_id": ours, "amount": "1"})
    assert response.status_code == 422
    assert client_api.get(url(theirs), headers=headers).json()["items"] == []
    assert state(tenant) == before
    assert not Budget.objects.filter(tenant=theirs).exists()
