"""/api/v1/tenants/{tenant}/transactions through the whole ASGI app."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from coffer.api.models import ApiToken
from coffer.audit.models import AuditEntry
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger.models import Account, Transaction
from coffer.secrets import secret_hash
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/transactions", *map(str, rest)])


def rows(tenant) -> list[tuple]:
    return list(
        Transaction.objects.filter(tenant=tenant).order_by("pk").values_list(
            "pk", "account_id", "booked_on", "amount", "description", "note"
        )
    )


def balances(tenant) -> dict:
    return dict(Account.objects.filter(tenant=tenant).values_list("pk", "balance"))


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


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


def test_a_member_records_edits_and_deletes_a_transaction_and_the_balance_follows(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["member"])
    account = factories.account(tenant, currency="USD", opening_balance="100")
    created = client_api.post(url(tenant), headers=headers, json={
        "account_id": str(account.pk), "booked_on": "2024-05-02", "value_on": "2024-05-03", "amount": "-12.5",
        "description": "Groceries", "counterparty": "Corner shop", "reference": "R-1", "note": "weekly",
    })
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {
        "id": body["id"], "account_id": str(account.pk), "booked_on": "2024-05-02", "value_on": "2024-05-03",
        "amount": "-12.50", "currency": "USD", "description": "Groceries", "counterparty": "Corner shop",
        "reference": "R-1", "note": "weekly", "category_id": None, "category_source": "", "tags": [],
        "created_at": body["created_at"], "updated_at": body["updated_at"],
    }
    assert Account.objects.get(pk=account.pk).balance == Decimal("87.5")

    assert client_api.get(url(tenant, body["id"]), headers=headers).json() == body

    patched = client_api.patch(url(tenant, body["id"]), headers=headers, json={"amount": "-20", "value_on": None})
    assert patched.status_code == 200
    assert (patched.json()["amount"], patched.json()["value_on"], patched.json()["description"]) == ("-20.00", None, "Groceries")
    assert Account.objects.get(pk=account.pk).balance == Decimal("80")

    assert client_api.delete(url(tenant, body["id"]), headers=headers).status_code == 204
    assert Account.objects.get(pk=account.pk).balance == Decimal("100")
    assert client_api.get(url(tenant, body["id"]), headers=headers).status_code == 404
    actions = sorted(AuditEntry.objects.filter(object_id=body["id"]).values_list("action", flat=True))
    assert actions == ["transaction.create", "transaction.delete", "transaction.update"]


def test_moving_a_transaction_to_another_account_through_the_api(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["member"])
    source, target = factories.account(tenant, opening_balance="10"), factories.account(tenant, opening_balance="0")
    row = factories.transaction(source, amount="4")
    response = client_api.patch(url(tenant, row.pk), headers=headers, json={"account_id": str(target.pk), "amount": "6"})
    assert response.status_code == 200
    assert response.json()["account_id"] == str(target.pk)
    for account, expected in ((source, "10"), (target, "6")):
        assert Account.objects.get(pk=account.pk).balance == Decimal(expected)
        assert ledger_selectors.account_balance_recomputed(account) == Decimal(expected)


def test_an_archived_account_refuses_new_transactions_with_409(client_api, team):
    tenant = team["tenant"]
    account = factories.account(tenant)
    Account.objects.filter(pk=account.pk).update(archived_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["member"]),
                               json={"account_id": str(account.pk), "booked_on": "2024-01-02", "amount": "1"})
    assert response.status_code == 409
    assert "archived" in response.json()["detail"]
    assert rows(tenant) == []


# --- listing --------------------------------------------------------------


@pytest.mark.parametrize("sort", ["booked_on", "-booked_on", "amount", "-amount"])
def test_pages_walk_every_transaction_once_in_each_order_through_ties(client_api, team, sort):
    tenant = team["tenant"]
    account = factories.account(tenant)
    made = [
        factories.transaction(account, amount=["1.00", "2.00", "2.00", "-3.00"][i % 4], booked_on=dt.date(2024, 1, 1 + i % 2))
        for i in range(17)
    ]
    seen = walk(client_api, tenant, factories.auth_headers(team["viewer"]), sort=sort, limit=3)
    assert len(seen) == 17
    assert {t["id"] for t in seen} == {str(t.pk) for t in made}
    field = sort.lstrip("-")
    keys = [(Decimal(t[field]) if field == "amount" else t[field], uuid.UUID(t["id"])) for t in seen]
    assert keys == sorted(keys, reverse=sort.startswith("-"))


def test_default_order_is_newest_booking_first(client_api, team):
    tenant = team["tenant"]
    account = factories.account(tenant)
    for day in (3, 1, 2):
        factories.transaction(account, booked_on=dt.date(2024, 1, day))
    items = client_api.get(url(tenant), headers=factories.auth_headers(team["viewer"])).json()["items"]
    assert [t["booked_on"] for t in items] == ["2024-01-03", "2024-01-02", "2024-01-01"]


def test_filters_combine_through_the_api(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    main, other = factories.account(tenant), factories.account(tenant)
    hit = factories.transaction(main, amount="-42.00", booked_on=dt.date(2024, 6, 10), counterparty="ACME Hardware")
    factories.transaction(main, amount="-42.00", booked_on=dt.date(2024, 7, 10), counterparty="ACME Hardware")
    factories.transaction(main, amount="-500.00", booked_on=dt.date(2024, 6, 11), counterparty="ACME Hardware")
    factories.transaction(other, amount="-42.00", booked_on=dt.date(2024, 6, 10), counterparty="ACME Hardware")
    factories.transaction(main, amount="-42.00", booked_on=dt.date(2024, 6, 12), description="something else")
    params = {"account": str(main.pk), "booked_from": "2024-06-01", "booked_to": "2024-06-30",
              "amount_min": "-100", "amount_max": "0", "q": "acme"}
    assert [t["id"] for t in walk(client_api, tenant, headers, **params)] == [str(hit.pk)]


def test_filtering_by_another_tenants_account_shows_nothing(client_api, team):
    tenant = team["tenant"]
    factories.transaction(factories.account(tenant), amount="1")
    theirs = factories.account(factories.organization(factories.user()))
    factories.transaction(theirs, amount="99")
    page = client_api.get(url(tenant), headers=factories.auth_headers(team["owner"]), params={"account": str(theirs.pk)})
    assert page.json() == {"items": [], "next": None}


def test_transaction_list_runs_the_same_number_of_queries_for_5_or_100_rows(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    accounts = [factories.account(tenant) for _ in range(3)]
    Transaction.objects.bulk_create(
        Transaction(tenant=tenant, account=accounts[i % 3], booked_on=dt.date(2024, 1, 1 + i % 28), amount=Decimal(i))
        for i in range(110)
    )
    client_api.get(url(tenant), headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            response = client_api.get(url(tenant), headers=headers, params={"limit": limit, "q": "", "sort": "amount"})
        assert len(response.json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 4


# --- roles ----------------------------------------------------------------


def _writes(tenant, account, row):
    return [
        ("POST", url(tenant), {"account_id": str(account.pk), "booked_on": "2024-02-02", "amount": "-1"}, 201),
        ("PATCH", url(tenant, row.pk), {"amount": "-9", "note": "changed"}, 200),
        ("DELETE", url(tenant, row.pk), None, 204),
    ]


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("member", True), ("viewer", False)])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_members_and_above_write_transactions_viewers_do_not(client_api, team, role, allowed, which):
    tenant = team["tenant"]
    account = factories.account(tenant, opening_balance="5")
    row = factories.transaction(account, amount="-2")
    method, path, body, status = _writes(tenant, account, row)[which]
    before, before_balances, audit_before = rows(tenant), balances(tenant), AuditEntry.objects.count()
    response = client_api.request(method, path, headers=factories.auth_headers(team[role]), **({"json": body} if body else {}))
    if allowed:
        assert response.status_code == status, response.text
        assert rows(tenant) != before
    else:
        assert response.status_code == 403
        assert rows(tenant) == before
        assert balances(tenant) == before_balances
        assert AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_role_reads_transactions(client_api, team, role):
    tenant = team["tenant"]
    row = factories.transaction(factories.account(tenant))
    headers = factories.auth_headers(team[role])
    assert len(client_api.get(url(tenant), headers=headers).json()["items"]) == 1
    assert client_api.get(url(tenant, row.pk), headers=headers).status_code == 200


def test_a_read_only_token_cannot_write_transactions(client_api, team):
    tenant = team["tenant"]
    account = factories.account(tenant)
    row = factories.transaction(account)
    raw = f"cof_{uuid.uuid4().hex}"
    ApiToken.objects.create(user=team["owner"], tenant=tenant, name="ro", scope=ApiToken.Scope.READ,
                            prefix=raw[:12], token_hash=secret_hash(raw))
    headers = {"Authorization": f"Bearer {raw}"}
    assert client_api.get(url(tenant, row.pk), headers=headers).status_code == 200
    before = rows(tenant)
    for method, path, body, _ in _writes(tenant, account, row):
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 403
    assert rows(tenant) == before


# --- other tenants --------------------------------------------------------


def test_another_tenants_transaction_is_404_everywhere_and_untouched(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    other = factories.organization(factories.user())
    theirs = factories.transaction(factories.account(other, opening_balance="1"), amount="-31.4159", description="private")
    before, before_balances = rows(other), balances(other)
    for method, body in [("GET", None), ("PATCH", {"amount": "0"}), ("DELETE", None)]:
        response = client_api.request(method, url(tenant, theirs.pk), headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert "private" not in response.text and "31.4159" not in response.text
    assert str(theirs.pk) not in {t["id"] for t in walk(client_api, tenant, headers)}
    assert rows(other) == before
    assert balances(other) == before_balances


def test_a_transaction_cannot_be_created_in_or_moved_to_another_tenants_account(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    theirs = factories.account(factories.organization(factories.user()))
    mine = factories.transaction(factories.account(tenant), amount="3")
    response = client_api.post(url(tenant), headers=headers,
                               json={"account_id": str(theirs.pk), "booked_on": "2024-01-01", "amount": "5"})
    assert response.status_code == 422
    assert "No such account" in response.json()["detail"]
    response = client_api.patch(url(tenant, mine.pk), headers=headers, json={"account_id": str(theirs.pk)})
    assert response.status_code == 422
    assert not Transaction.objects.filter(account=theirs).exists()
    assert Transaction.objects.get(pk=mine.pk).account_id == mine.account_id
    assert Account.objects.get(pk=theirs.pk).balance == 0


def test_a_tenant_you_do_not_belong_to_is_404_for_every_transaction_endpoint(client_api, team):
    tenant = team["tenant"]
    account = factories.account(tenant)
    row = factories.transaction(account)
    headers = factories.auth_headers(factories.user())
    before = rows(tenant)
    for method, path, body, _ in [("GET", url(tenant), None, 0), ("GET", url(tenant, row.pk), None, 0),
                                  *_writes(tenant, account, row)]:
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert response.json()["detail"] == "No such tenant"
    assert rows(tenant) == before


# --- bad input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"amount": "1.00001"}, "amount", "4 decimal"),
        ({"amount": 12.5}, "amount", "floating-point"),
        ({"amount": True}, "amount", "floating-point"),
        ({"amount": "1e400"}, "amount", "too large"),
        ({"amount": None}, "amount", "decimal string"),
        ({"booked_on": "31/12/2024"}, "booked_on", "date"),
        ({"booked_on": "2024-02-30"}, "booked_on", "date"),
        ({"account_id": "123"}, "account_id", "uuid"),
        ({"category": "food"}, "category", "Extra inputs"),
        ({"description": "x" * 501}, "description", "500"),
    ],
)
def test_bad_transaction_input_is_a_422_naming_the_field_and_creates_nothing(client_api, team, changes, field, words):
    tenant = team["tenant"]
    account = factories.account(tenant, opening_balance="10")
    body = {"account_id": str(account.pk), "booked_on": "2024-01-01", "amount": "1", **changes}
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["member"]), json=body)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert words.lower() in response.json()["detail"].lower()
    assert rows(tenant) == []
    assert Account.objects.get(pk=account.pk).balance == Decimal("10")


@pytest.mark.parametrize("body", [{"amount": 3.3}, {"amount": "0.12345"}, {"booked_on": None}, {"created_by": "x"},
                                  {"account_id": None}, {"currency": "USD"}])
def test_bad_transaction_patches_are_422_and_change_nothing(client_api, team, body):
    tenant = team["tenant"]
    row = factories.transaction(factories.account(tenant), amount="2")
    before, before_balances = rows(tenant), balances(tenant)
    response = client_api.patch(url(tenant, row.pk), headers=factories.auth_headers(team["member"]), json=body)
    assert response.status_code == 422, response.text
    assert rows(tenant) == before
    assert balances(tenant) == before_balances


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"cursor": "%%%not-base64"}, "cursor"),
        ({"cursor": "WyJhIiwiYiJd"}, "cursor"), ({"sort": "description"}, "sort"), ({"amount_min": "1.23456"}, "amount_min"),
        ({"amount_min": "abc"}, "amount_min"), ({"booked_from": "yesterday"}, "booked_from"), ({"account": "nope"}, "account"),
        ({"booked_from": "2024-02-01", "booked_to": "2024-01-01"}, "booked_from"),
    ],
)
def test_bad_list_parameters_are_422_with_a_message(client_api, team, params, words):
    response = client_api.get(url(team["tenant"]), headers=factories.auth_headers(team["viewer"]), params=params)
    assert response.status_code == 422, response.text
    assert words in response.text


def test_a_cursor_from_another_sort_order_is_refused(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    account = factories.account(tenant)
    for _ in range(3):
        factories.transaction(account)
    cursor = client_api.get(url(tenant), headers=headers, params={"limit": 1, "sort": "amount"}).json()["next"]
    response = client_api.get(url(tenant), headers=headers, params={"limit": 1, "sort": "booked_on", "cursor": cursor})
    assert response.status_code == 422
    assert "cursor" in response.json()["detail"]


# --- categories and tags ----------------------------------------------------


def category(tenant, name):
    from coffer.ledger.models import Category

    return Category.objects.get(tenant=tenant, name=name)


def make_tags(team, *names):
    from coffer.ledger import services as ledger_services

    return [ledger_services.tag_create(tenant=team["tenant"], actor=team["owner"], name=name) for name in names]


def labels(tenant) -> list[tuple]:
    from coffer.ledger.models import TransactionTag

    return [
        *Transaction.objects.filter(tenant=tenant).order_by("pk").values_list("pk", "category_id", "category_source"),
        *sorted(TransactionTag.objects.filter(tenant=tenant).values_list("transaction_id", "tag_id")),
    ]


def test_a_member_sets_a_category_and_tags_on_create_and_update(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["member"])
    make_tags(team, "Trip", "Work")
    account = factories.account(tenant)
    fuel, car = category(tenant, "Fuel"), category(tenant, "Car")
    created = client_api.post(url(tenant), headers=headers, json={
        "account_id": str(account.pk), "booked_on": "2024-05-02", "amount": "-40",
        "category_id": str(fuel.pk), "tags": ["work", "Trip"],
    })
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["category_id"], body["category_source"], body["tags"]) == (str(fuel.pk), "manual", ["Trip", "Work"])
    assert client_api.get(url(tenant, body["id"]), headers=headers).json() == body

    patched = client_api.patch(url(tenant, body["id"]), headers=headers, json={"category_id": str(car.pk), "tags": ["trip"]})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["category_id"], patched.json()["tags"]) == (str(car.pk), ["Trip"])
    entry = AuditEntry.objects.get(action="transaction.update", object_id=body["id"])
    assert entry.changes == {"category": [str(fuel.pk), str(car.pk)], "tags": [["Trip", "Work"], ["Trip"]]}
    assert entry.actor_id == team["member"].pk

    cleared = client_api.patch(url(tenant, body["id"]), headers=headers, json={"category_id": None, "tags": []})
    assert (cleared.json()["category_id"], cleared.json()["category_source"], cleared.json()["tags"]) == (None, "", [])
    untouched = client_api.patch(url(tenant, body["id"]), headers=headers, json={"note": "only the note"})
    assert (untouched.json()["category_id"], untouched.json()["tags"]) == (None, [])

    tagged = factories.transaction(account, tags=["work"], category_id=fuel.pk)
    assert client_api.delete(url(tenant, tagged.pk), headers=headers).status_code == 204
    assert labels(tenant) == [(uuid.UUID(body["id"]), None, "")]


def test_setting_a_category_by_hand_makes_a_rules_choice_manual(client_api, team):
    tenant = team["tenant"]
    fuel = category(tenant, "Fuel")
    row = factories.transaction(factories.account(tenant))
    Transaction.objects.filter(pk=row.pk).update(category=fuel, category_source="rule")
    response = client_api.patch(url(tenant, row.pk), headers=factories.auth_headers(team["member"]),
                                json={"category_id": str(fuel.pk)})
    assert (response.json()["category_id"], response.json()["category_source"]) == (str(fuel.pk), "manual")


def test_the_list_filters_by_category_uncategorized_and_tag(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    make_tags(team, "Trip")
    account = factories.account(tenant)
    fuel = factories.transaction(account, category_id=category(tenant, "Fuel").pk, tags=["trip"])
    car = factories.transaction(account, category_id=category(tenant, "Car").pk)
    food = factories.transaction(account, category_id=category(tenant, "Groceries").pk, tags=["trip"])
    loose = factories.transaction(account)

    def ids(**params):
        return {t["id"] for t in walk(client_api, tenant, headers, **params)}

    assert ids(category=str(category(tenant, "Transport").pk)) == {str(fuel.pk), str(car.pk)}
    assert ids(category=str(category(tenant, "Car").pk)) == {str(car.pk)}
    assert ids(category="uncategorized") == {str(loose.pk)}
    assert ids(tag="TRIP") == {str(fuel.pk), str(food.pk)}
    assert ids(tag="trip", category=str(category(tenant, "Food").pk)) == {str(food.pk)}
    assert ids(tag="unknown") == set()
    theirs = category(factories.organization(factories.user()), "Fuel")
    assert ids(category=str(theirs.pk)) == set()


@pytest.mark.parametrize("params", [{"category": "food"}, {"category": "x" * 37}, {"tag": "x" * 51}])
def test_bad_category_and_tag_filters_are_422(client_api, team, params):
    response = client_api.get(url(team["tenant"]), headers=factories.auth_headers(team["viewer"]), params=params)
    assert response.status_code == 422, response.text
    assert list(params)[0] in response.text


def test_the_list_with_tags_and_categories_runs_a_fixed_number_of_queries(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    from coffer.ledger.models import TransactionTag

    tags = make_tags(team, "a", "b", "c")
    account = factories.account(tenant)
    rows = Transaction.objects.bulk_create(
        Transaction(tenant=tenant, account=account, booked_on=dt.date(2024, 1, 1 + i % 28), amount=Decimal(i),
                    category=category(tenant, "Fuel"), category_source="manual")
        for i in range(110)
    )
    TransactionTag.objects.bulk_create(
        TransactionTag(tenant=tenant, transaction=row, tag=tag) for row in rows for tag in tags[: 1 + rows.index(row) % 3]
    )
    client_api.get(url(tenant), headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            response = client_api.get(url(tenant), headers=headers, params={"limit": limit, "tag": "a"})
        items = response.json()["items"]
        assert len(items) == limit
        assert all(t["tags"][0] == "a" and t["category_source"] == "manual" for t in items)
        assert {len(t["tags"]) for t in items} == {1, 2, 3}
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 4


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_members_and_above_set_categories_and_tags(client_api, team, role):
    tenant = team["tenant"]
    make_tags(team, "Trip")
    row = factories.transaction(factories.account(tenant))
    before = labels(tenant)
    response = client_api.patch(url(tenant, row.pk), headers=factories.auth_headers(team[role]),
                                json={"category_id": str(category(tenant, "Fuel").pk), "tags": ["trip"]})
    if role == "member":
        assert response.status_code == 200
        assert labels(tenant) != before
    else:
        assert response.status_code == 403
        assert labels(tenant) == before


def test_another_tenants_category_or_tag_on_a_transaction_is_422_and_nothing_changes(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    from coffer.ledger import services as ledger_services

    other_owner = factories.user()
    other = factories.organization(other_owner)
    ledger_services.tag_create(tenant=other, actor=other_owner, name="Theirs")
    theirs = category(other, "Fuel")
    account = factories.account(tenant, opening_balance="10")
    row = factories.transaction(account, amount="1")
    before, before_balances, audit = labels(tenant), balances(tenant), AuditEntry.objects.count()

    response = client_api.post(url(tenant), headers=headers, json={
        "account_id": str(account.pk), "booked_on": "2024-01-01", "amount": "5", "category_id": str(theirs.pk),
    })
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "category_id", "message": "No such category in this tenant.", "code": "validation_error"}
    ]
    response = client_api.post(url(tenant), headers=headers, json={
        "account_id": str(account.pk), "booked_on": "2024-01-01", "amount": "5", "tags": ["theirs"],
    })
    assert response.status_code == 422
    assert response.json()["detail"] == "No such tag: 'theirs'; an admin creates tags first"
    for body in ({"category_id": str(theirs.pk), "amount": "7"}, {"tags": ["theirs"], "amount": "7"}):
        response = client_api.patch(url(tenant, row.pk), headers=headers, json=body)
        assert response.status_code == 422
    assert labels(tenant) == before
    assert balances(tenant) == before_balances
    assert Transaction.objects.get(pk=row.pk).amount == Decimal("1")
    assert AuditEntry.objects.count() == audit
    assert not Transaction.objects.filter(category=theirs).exists()


def test_an_archived_category_is_refused_for_a_new_transaction_with_409(client_api, team):
    tenant = team["tenant"]
    from coffer.ledger.models import Category

    Category.objects.filter(tenant=tenant, name="Fuel").update(archived_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    account = factories.account(tenant)
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["member"]), json={
        "account_id": str(account.pk), "booked_on": "2024-01-01", "amount": "5", "category_id": str(category(tenant, "Fuel").pk),
    })
    assert response.status_code == 409
    assert response.json()["detail"] == "The category 'Fuel' is archived; unarchive it or choose another"
    assert rows(tenant) == []


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"category_id": "fuel"}, "category_id", "uuid"),
        ({"tags": "trip"}, "tags", "list"),
        ({"tags": [""]}, "tags.0", "at least 1"),
        ({"tags": ["x" * 51]}, "tags.0", "at most 50"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags", "at most 20"),
        ({"tags": [1]}, "tags.0", "string"),
        ({"category_source": "rule"}, "category_source", "Extra inputs"),
    ],
)
def test_bad_category_and_tag_input_is_422_and_creates_nothing(client_api, team, changes, field, words):
    tenant = team["tenant"]
    account = factories.account(tenant)
    body = {"account_id": str(account.pk), "booked_on": "2024-01-01", "amount": "1", **changes}
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["member"]), json=body)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert words.lower() in response.json()["detail"].lower()
    assert rows(tenant) == []
