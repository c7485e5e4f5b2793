"""/api/v1/tenants/{tenant}/rules through the whole ASGI app."""

from __future__ import annotations

import uuid

import pytest

from coffer.audit.models import AuditEntry
from coffer.ledger import rule_services
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Category, Rule, RuleTag, Transaction
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/rules", *map(str, rest)])


def named(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def state(tenant) -> tuple:
    """Everything a rule endpoint could change in a tenant."""
    return (
        sorted(Rule.objects.filter(tenant=tenant).values_list(
            "pk", "name", "position", "enabled", "description_value", "category_id", "set_note")),
        sorted(RuleTag.objects.filter(tenant=tenant).values_list("rule_id", "tag_id")),
        sorted(Transaction.objects.filter(tenant=tenant).values_list("pk", "category_id", "category_source", "note")),
        AuditEntry.objects.filter(tenant=tenant).count(),
    )


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer}


def netflix_rule(tenant, **overrides) -> dict:
    body = {
        "name": "Netflix",
        "conditions": {"description": {"operator": "regex", "value": r"^netflix\b"}, "amount": {"sign": "negative"}},
        "actions": {"category_id": str(named(tenant, "Streaming").pk), "tags": ["tv"], "note": "shared account"},
    }
    body.update(overrides)
    return body


def a_rule(tenant, name="r", value="x") -> Rule:
    """A rule made through the service by the tenant's owner: description contains `value`, note `name`."""
    owner = tenant.memberships.get(role="owner").user
    return rule_services.rule_create(tenant=tenant, actor=owner, name=name, conditions={
        "description": {"operator": "contains", "value": value}}, actions={"note": name})


# --- happy paths ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_default_rules_at_tenant_creation(monkeypatch):
    """These tests start from a tenant without rules; the default fee rules are seeded explicitly where tested."""
    from types import SimpleNamespace

    from coffer.tenancy import services as tenancy_services
    monkeypatch.setattr(tenancy_services, "ledger_rule_services", SimpleNamespace(rule_defaults_seed=lambda **_: []))


def test_an_admin_creates_reads_lists_updates_and_deletes_a_rule(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    ledger_services.tag_create(tenant=tenant, actor=team["owner"], name="TV")
    created = client_api.post(url(tenant), headers=headers, json=netflix_rule(tenant))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {
        "id": body["id"], "name": "Netflix", "position": 1, "enabled": True,
        "conditions": {
            "description": {"operator": "regex", "value": r"^netflix\b"}, "counterparty": None, "reference": None,
            "amount": {"equals": None, "min": None, "max": None, "sign": "negative"}, "account_id": None,
            "booked_from": None, "booked_to": None,
        },
        "actions": {"category_id": str(named(tenant, "Streaming").pk), "tags": ["TV"], "counterparty": None,
                    "note": "shared account"},
        "created_at": body["created_at"], "updated_at": body["updated_at"],
    }
    assert client_api.get(url(tenant, body["id"]), headers=headers).json() == body
    assert client_api.get(url(tenant), headers=headers).json() == {"items": [body]}

    patched = client_api.patch(url(tenant, body["id"]), headers=headers, json={
        "enabled": False, "conditions": {"amount": {"equals": "-9.99"}, "booked_from": "2024-01-01"},
    })
    assert patched.status_code == 200, patched.text
    assert patched.json()["enabled"] is False
    assert patched.json()["conditions"]["description"] is None
    assert patched.json()["conditions"]["amount"] == {"equals": "-9.99", "min": None, "max": None, "sign": None}
    assert patched.json()["conditions"]["booked_from"] == "2024-01-01"
    assert patched.json()["actions"] == body["actions"]

    assert client_api.delete(url(tenant, body["id"]), headers=headers).status_code == 204
    assert client_api.get(url(tenant, body["id"]), headers=headers).status_code == 404
    actions = sorted(AuditEntry.objects.filter(object_id=body["id"]).values_list("action", flat=True))
    assert actions == ["rule.create", "rule.delete", "rule.update"]


def test_the_preview_says_what_apply_then_changes(client_api, team):
    tenant = team["tenant"]
    account = factories.account(tenant)
    ledger_services.tag_create(tenant=tenant, actor=team["owner"], name="tv")
    rows = [factories.transaction(account, amount="-9.99", description=f"NETFLIX.COM {i}") for i in range(3)]
    kept = factories.transaction(account, amount="-9.99", description="Netflix gift",
                                 category_id=named(tenant, "Gifts & donations").pk)
    created = client_api.post(url(tenant), headers=factories.auth_headers(team["owner"]), json=netflix_rule(tenant))
    assert created.status_code == 201, created.text

    preview = client_api.get(url(tenant, "preview"), headers=factories.auth_headers(team["viewer"]), params={"sample": 2})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["count"] == 4  # the gift keeps its category but gets the tag and the note
    assert len(body["sample"]) == 2
    item = next(i for i in body["sample"] if i["transaction_id"] in {str(r.pk) for r in rows})
    assert (item["new_category_id"], item["new_note"], item["tags_added"], item["amount"], item["currency"]) == (
        str(named(tenant, "Streaming").pk), "shared account", ["tv"], "-9.99", "EUR")

    applied = client_api.post(url(tenant, "apply"), headers=factories.auth_headers(team["admin"]))
    assert applied.status_code == 200, applied.text
    assert applied.json() == {"changed": 4}
    assert Transaction.objects.filter(pk__in=[r.pk for r in rows], category_source="rule").count() == 3
    assert Transaction.objects.get(pk=kept.pk).category_source == "manual"
    again = client_api.get(url(tenant, "preview"), headers=factories.auth_headers(team["viewer"]))
    assert again.json() == {"count": 0, "sample": []}


def test_apply_can_be_limited_to_an_account_and_a_period(client_api, team):
    tenant = team["tenant"]
    main, card = factories.account(tenant), factories.account(tenant)
    factories.transaction(main, amount="-1", description="netflix")
    inside = factories.transaction(card, amount="-1", description="netflix")
    client_api.post(url(tenant), headers=factories.auth_headers(team["owner"]),
                    json=netflix_rule(tenant, actions={"note": "n"}))
    response = client_api.post(url(tenant, "apply"), headers=factories.auth_headers(team["owner"]), json={
        "account_id": str(card.pk), "booked_from": "2024-01-01", "booked_to": "2024-12-31"})
    assert response.json() == {"changed": 1}
    assert Transaction.objects.filter(note="n").get().pk == inside.pk


def test_reordering_and_the_default_fee_rules(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["admin"])
    added = client_api.post(url(tenant, "defaults"), headers=headers)
    assert added.status_code == 200, added.text
    names = [rule["name"] for rule in added.json()["items"]]
    assert names == ["Account fees", "Card fees", "Foreign exchange fees", "Overdraft fees and interest", "Late fees"]
    assert client_api.post(url(tenant, "defaults"), headers=headers).json() == {"items": []}
    ids = [rule["id"] for rule in added.json()["items"]]
    reordered = client_api.post(url(tenant, "reorder"), headers=headers, json={"rule_ids": ids[::-1]})
    assert reordered.status_code == 200, reordered.text
    assert [(r["id"], r["position"]) for r in reordered.json()["items"]] == [(i, n) for n, i in enumerate(ids[::-1], 1)]
    partial = client_api.post(url(tenant, "reorder"), headers=headers, json={"rule_ids": ids[:2]})
    assert partial.status_code == 422
    assert "each of the tenant's 5 rules exactly once" in partial.json()["detail"]


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"conditions": {"description": {"operator": "regex", "value": "(a+)+$"}}}, "conditions.description.value",
     "exponential time"),
    ({"conditions": {"counterparty": {"operator": "regex", "value": r"\w*\w*\w*x"}}}, "conditions.counterparty.value",
     "catastrophic backtracking"),
    ({"conditions": {"reference": {"operator": "regex", "value": "(?<=a)b"}}}, "conditions.reference.value",
     "no lookarounds"),
    ({"conditions": {"description": {"operator": "like", "value": "a"}}}, "conditions.description.operator", "contains"),
    ({"conditions": {"description": {"operator": "contains", "value": ""}}}, "conditions.description.value",
     "at least 1"),
    ({"conditions": {}}, "conditions", "at least one condition"),
    ({"actions": {}}, "actions", "at least one action"),
    ({"conditions": {"amount": {"equals": 9.99}}}, "conditions.amount.equals", "decimal strings"),
    ({"conditions": {"amount": {"min": "5", "max": "1"}}}, "conditions.amount.min", "above"),
    ({"conditions": {"account_id": str(uuid.uuid4())}}, "conditions.account_id", "No such account"),
    ({"actions": {"category_id": str(uuid.uuid4())}}, "actions.category_id", "No such category"),
    ({"actions": {"tags": ["missing"]}}, "actions.tags", "No such tag"),
    ({"actions": {"tags": ["a", "b", "c", "d", "e", "f"]}}, "actions.tags", "at most 5"),
    ({"name": ""}, "name", "at least 1"),
    ({"priority": 1}, "priority", "Extra inputs"),
])
def test_a_bad_rule_is_refused_with_the_reason_on_its_field_and_nothing_written(client_api, team, change, field, words):
    tenant = team["tenant"]
    before = state(tenant)
    body = netflix_rule(tenant, actions={"note": "x"}) | change
    response = client_api.post(url(tenant), headers=factories.auth_headers(team["admin"]), json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}
    assert words.lower() in response.text.lower()
    assert state(tenant) == before


# --- roles ----------------------------------------------------------------------------------------------


def _writes(tenant):
    rule = a_rule(tenant, "existing", "x")
    return [
        ("POST", url(tenant), netflix_rule(tenant, actions={"note": "n"}), 201),
        ("PATCH", url(tenant, rule.pk), {"name": "renamed"}, 200),
        ("POST", url(tenant, "reorder"), "<order>", 200),
        ("POST", url(tenant, "defaults"), None, 200),
        ("POST", url(tenant, "apply"), None, 200),
        ("DELETE", url(tenant, rule.pk), None, 204),
    ]


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("member", False), ("viewer", False)])
def test_admins_and_owners_manage_and_apply_rules_members_and_viewers_do_not(client_api, team, role, allowed):
    tenant = team["tenant"]
    factories.transaction(factories.account(tenant), amount="-3", description="x")
    headers = factories.auth_headers(team[role])
    for method, path, body, status in _writes(tenant):
        if body == "<order>":
            body = {"rule_ids": [str(pk) for pk in Rule.objects.filter(tenant=tenant).order_by("-position")
                                 .values_list("pk", flat=True)]}
        before = state(tenant)
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        if allowed:
            assert response.status_code == status, (path, response.text)
            assert state(tenant) != before, path
        else:
            assert response.status_code == 403, path
            assert response.json()["detail"] == f"Your role ({role}) does not allow this"
            assert state(tenant) == before
    for read in (url(tenant), url(tenant, "preview")):
        assert client_api.get(read, headers=headers).status_code == 200


# --- other tenants --------------------------------------------------------------------------------------


def test_another_tenants_rule_is_404_everywhere_and_untouched(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    other = factories.organization(factories.user())
    theirs = a_rule(other, "Secret rule", "secret")
    mine = a_rule(tenant, "Mine", "mine")
    before, before_mine = state(other), state(tenant)
    for method, body in [("GET", None), ("PATCH", {"name": "stolen"}), ("DELETE", None)]:
        response = client_api.request(method, url(tenant, theirs.pk), headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert "Secret" not in response.text
    response = client_api.post(url(tenant, "reorder"), headers=headers, json={"rule_ids": [str(theirs.pk), str(mine.pk)]})
    assert response.status_code == 404
    assert "Secret" not in client_api.get(url(tenant), headers=headers).text
    assert state(other) == before
    assert state(tenant) == before_mine


def test_another_tenants_category_account_and_tag_cannot_be_used(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["owner"])
    other_owner = factories.user()
    other = factories.organization(other_owner)
    ledger_services.tag_create(tenant=other, actor=other_owner, name="theirs")
    their_account = factories.account(other)
    before, before_other = state(tenant), state(other)
    for change, field in [
        ({"actions": {"category_id": str(named(other, "Groceries").pk)}}, "actions.category_id"),
        ({"conditions": {"account_id": str(their_account.pk)}}, "conditions.account_id"),
        ({"actions": {"tags": ["theirs"]}}, "actions.tags"),
    ]:
        response = client_api.post(url(tenant), headers=headers, json=netflix_rule(tenant, **change))
        assert response.status_code == 422
        assert field in {error["field"] for error in response.json()["errors"]}
    for response in (
        client_api.get(url(tenant, "preview"), headers=headers, params={"account": str(their_account.pk)}),
        client_api.post(url(tenant, "apply"), headers=headers, json={"account_id": str(their_account.pk)}),
    ):
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "account_id"
    assert state(tenant) == before
    assert state(other) == before_other


def test_applying_rules_never_reaches_another_tenants_transactions(client_api, team):
    tenant = team["tenant"]
    other = factories.organization(factories.user())
    theirs = factories.transaction(factories.account(other), amount="-5", description="netflix")
    client_api.post(url(tenant), headers=factories.auth_headers(team["owner"]),
                    json=netflix_rule(tenant, actions={"note": "n"}))
    preview = client_api.get(url(tenant, "preview"), headers=factories.auth_headers(team["owner"]))
    assert preview.json() == {"count": 0, "sample": []}
    assert client_api.post(url(tenant, "apply"), headers=factories.auth_headers(team["owner"])).json() == {"changed": 0}
    assert Transaction.objects.get(pk=theirs.pk).note == ""


def test_a_tenant_you_do_not_belong_to_is_404_for_every_rule_endpoint(client_api, team):
    tenant = team["tenant"]
    headers = factories.auth_headers(factories.user())
    writes = _writes(tenant)
    before = state(tenant)
    for method, path, body, _ in [("GET", url(tenant), None, 0), ("GET", url(tenant, "preview"), None, 0), *writes]:
        body = {"rule_ids": []} if body == "<order>" else body
        response = client_api.request(method, path, headers=headers, **({"json": body} if body else {}))
        assert response.status_code == 404
        assert response.json()["detail"] == "No such tenant"
    assert state(tenant) == before


# --- bounded --------------------------------------------------------------------------------------------


def test_the_list_and_the_preview_run_a_fixed_number_of_queries(client_api, team):
    tenant, headers = team["tenant"], factories.auth_headers(team["viewer"])
    account = factories.account(tenant)
    ledger_services.tag_create(tenant=tenant, actor=team["owner"], name="tv")
    client_api.get(url(tenant), headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for extra in (2, 30):
        for index in range(extra):
            a_rule(tenant, f"r{extra}-{index}", f"shop{index}")
            factories.transaction(account, amount="-1", description=f"shop{index} netflix")
        with count_queries() as listing:
            listed = client_api.get(url(tenant), headers=headers)
        with count_queries() as previewing:
            previewed = client_api.get(url(tenant, "preview"), headers=headers)
        assert previewed.json()["count"] == Transaction.objects.filter(tenant=tenant, note="").count()
        counts.append((len(listing), len(previewing)))
        assert len(listed.json()["items"]) == Rule.objects.filter(tenant=tenant).count()
    assert counts[0] == counts[1]
