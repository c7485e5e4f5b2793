"""Rules pages (everyone reads and previews; admins and owners manage and apply) and the suggestions page
(members and above accept): what each role sees and may do, refusals, other tenants' ids, bad input, queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffer.audit.models import AuditEntry
from coffer.ledger import rule_services
from coffer.ledger.models import Category, CategorySource, Rule, Transaction
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MANAGERS = ["owner", "admin"]
NOT_MANAGERS = ["member", "viewer"]
ACCEPTERS = ["owner", "admin", "member"]


def _cat(tenant, name: str) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


@pytest.fixture(autouse=True)
def no_default_rules(org):
    """A new tenant starts with the default fee rules; these tests start from none (the defaults test adds them)."""
    Rule.objects.filter(tenant=org.tenant).delete()


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="1000")


def _rule(org, name="Groceries at Lidl", value="lidl", **conditions):
    return rule_services.rule_create(
        tenant=org.tenant, actor=None, name=name,
        conditions={"description": {"operator": "contains", "value": value}, **conditions},
        actions={"category_id": _cat(org.tenant, "Groceries").pk},
    )


def _form(org, **changes) -> dict:
    data = {
        "name": "Coffee", "enabled": "on", "description_operator": "contains", "description_value": "coffee",
        "counterparty_operator": "contains", "counterparty_value": "", "reference_operator": "contains",
        "reference_value": "", "amount_equals": "", "amount_min": "", "amount_max": "", "amount_sign": "negative",
        "account": "", "booked_from": "", "booked_to": "", "category": str(_cat(org.tenant, "Restaurants").pk),
        "tags": "", "set_counterparty": "", "set_note": "",
    }
    data.update(changes)
    return data


def _order(org) -> list[str]:
    return list(Rule.objects.filter(tenant=org.tenant).order_by("position").values_list("name", flat=True))


# --- the rules list --------------------------------------------------------------------------------------


def test_the_list_shows_rules_in_order_with_their_conditions_and_actions_escaped(org):
    _rule(org, name="<b>First</b>", value="<script>")
    _rule(org, name="Second", value="aldi", amount={"min": "-50", "max": "-1"})
    page = org.client("viewer").get(org.url("rules/")).content.decode()
    assert page.index("&lt;b&gt;First&lt;/b&gt;") < page.index("Second")
    assert "<script>" not in page and "description contains “&lt;script&gt;”" in page
    assert "amount ≥ -50.00 and ≤ -1.00" in page
    assert "category Food › Groceries" in page
    assert 'href="/t/%s/rules/"' % org.tenant.slug in page and "Suggestions" in page  # the sub-navigation


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_members_and_viewers_read_rules_without_buttons_to_change_them(org, who):
    rule = _rule(org)
    page = org.client(who).get(org.url("rules/")).content.decode()
    assert "Groceries at Lidl" in page and "Admins and owners change them." in page
    for hidden in ("New rule", "/edit/", "/toggle/", "/move/", "/delete/", "default fee rules", f"/rules/{rule.pk}/"):
        assert hidden not in page


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_get_every_button(org, who):
    rule = _rule(org)
    page = org.client(who).get(org.url("rules/")).content.decode()
    assert "New rule" in page and "Add the default fee rules" in page
    for action in ("edit", "toggle", "move", "delete"):
        assert f"/rules/{rule.pk}/{action}/" in page


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_members_and_viewers_are_refused_every_rule_change(org, who, account):
    rule = _rule(org)
    factories.transaction(account, amount="-3", description="LIDL 123")
    client = org.client(who)
    assert client.get(org.url("rules/new/")).status_code == 403
    assert client.post(org.url("rules/new/"), _form(org)).status_code == 403
    assert client.get(org.url(f"rules/{rule.pk}/edit/")).status_code == 403
    assert client.post(org.url(f"rules/{rule.pk}/edit/"), _form(org)).status_code == 403
    assert client.post(org.url(f"rules/{rule.pk}/toggle/"), {"enabled": "0"}).status_code == 403
    assert client.post(org.url(f"rules/{rule.pk}/move/"), {"direction": "down"}).status_code == 403
    assert client.get(org.url(f"rules/{rule.pk}/delete/")).status_code == 403
    assert client.post(org.url(f"rules/{rule.pk}/delete/")).status_code == 403
    assert client.post(org.url("rules/defaults/")).status_code == 403
    assert client.post(org.url("rules/apply/")).status_code == 403
    rule.refresh_from_db()
    assert rule.enabled and rule.name == "Groceries at Lidl" and _order(org) == ["Groceries at Lidl"]
    assert Transaction.objects.get(tenant=org.tenant).category_id is None


def test_strangers_get_404_on_every_rules_page(org):
    rule = _rule(org)
    client = org.client("outsider")
    for url in ("rules/", "rules/new/", "rules/preview/", f"rules/{rule.pk}/edit/", f"rules/{rule.pk}/delete/",
                "suggestions/"):
        assert client.get(org.url(url)).status_code == 404, url
    for url in ("rules/apply/", "rules/defaults/", f"rules/{rule.pk}/toggle/", "suggestions/accept/"):
        assert client.post(org.url(url)).status_code == 404, url
    assert Rule.objects.filter(pk=rule.pk).exists()


def test_another_tenants_rule_and_transaction_are_404_and_left_alone(org):
    stranger = factories.organization(org.people["outsider"])
    theirs = rule_services.rule_create(
        tenant=stranger, actor=None, name="Theirs", conditions={"description": {"operator": "contains", "value": "x"}},
        actions={"category_id": _cat(stranger, "Groceries").pk},
    )
    their_row = factories.transaction(factories.account(stranger), description="x")
    client = org.client("owner")
    for url in (f"rules/{theirs.pk}/edit/", f"rules/{theirs.pk}/delete/"):
        assert client.get(org.url(url)).status_code == 404
    assert client.post(org.url(f"rules/{theirs.pk}/edit/"), _form(org)).status_code == 404
    assert client.post(org.url(f"rules/{theirs.pk}/toggle/"), {"enabled": "0"}).status_code == 404
    assert client.post(org.url(f"rules/{theirs.pk}/move/"), {"direction": "up"}).status_code == 404
    assert client.post(org.url(f"rules/{theirs.pk}/delete/")).status_code == 404
    assert client.post(org.url("rules/not-an-id/edit/"), _form(org)).status_code == 404
    mine = _cat(org.tenant, "Groceries")
    assert client.post(org.url(f"suggestions/{their_row.pk}/accept/"), {"category": mine.pk}).status_code == 404
    client.post(org.url("suggestions/accept/"), {"accept": f"{their_row.pk}:{mine.pk}"})
    theirs.refresh_from_db()
    their_row.refresh_from_db()
    assert theirs.enabled and theirs.name == "Theirs" and their_row.category_id is None
    # Their rule never shows on our list, nor their categories in our form.
    assert "Theirs" not in client.get(org.url("rules/")).content.decode()
    assert str(_cat(stranger, "Groceries").pk) not in client.get(org.url("rules/new/")).content.decode()


def test_the_rules_list_runs_a_bounded_number_of_queries(org, account):
    _rule(org, name="One", value="one")
    client = org.client("viewer")
    with CaptureQueriesContext(connection) as few:
        assert client.get(org.url("rules/")).status_code == 200
    tag_names = ["a", "b"]
    from coffer.ledger import services as ledger_services
    for name in tag_names:
        ledger_services.tag_create(tenant=org.tenant, actor=None, name=name)
    for index in range(15):
        rule_services.rule_create(
            tenant=org.tenant, actor=None, name=f"R{index}",
            conditions={"counterparty": {"operator": "equals", "value": f"c{index}"}, "account_id": account.pk},
            actions={"category_id": _cat(org.tenant, "Groceries").pk, "tags": tag_names},
        )
    with CaptureQueriesContext(connection) as many:
        page = client.get(org.url("rules/")).content.decode()
    assert "R14" in page and "tags a, b" in page and "account Current" in page
    assert len(many) == len(few)


# --- creating and editing --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", MANAGERS)
def test_a_manager_creates_a_rule_from_the_form(org, who):
    form_page = org.client(who).get(org.url("rules/new/")).content.decode()
    for label in ('for="id_description_value"', 'for="id_amount_min"', 'for="id_category"', 'for="id_set_note"'):
        assert label in form_page
    response = org.client(who).post(org.url("rules/new/"), _form(org, amount_min="-20", amount_max="-1"))
    assert response.status_code == 302
    rule = Rule.objects.get(tenant=org.tenant)
    assert (rule.name, rule.description_operator, rule.description_value) == ("Coffee", "contains", "coffee")
    assert (str(rule.amount_min), str(rule.amount_max), rule.amount_sign) == ("-20.0000", "-1.0000", "negative")
    assert rule.category == _cat(org.tenant, "Restaurants") and rule.counterparty_operator == ""
    assert AuditEntry.objects.filter(tenant=org.tenant, action="rule.create").count() == 1


def test_a_catastrophic_regex_is_refused_next_to_its_field_and_nothing_is_written(org):
    audited = AuditEntry.objects.filter(tenant=org.tenant).count()
    response = org.client("owner").post(org.url("rules/new/"), _form(
        org, description_operator="regex", description_value="(a+)+$"))
    assert response.status_code == 422
    page = response.content.decode()
    field = page[page.index('for="id_description_value"'):]
    field = field[:field.index("</div>")]
    assert "catastrophic" in field or "backtrack" in field
    assert not Rule.objects.filter(tenant=org.tenant).exists()
    assert AuditEntry.objects.filter(tenant=org.tenant).count() == audited


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"amount_min": "10", "amount_max": "1"}, "amount_min", "above"),
    ({"amount_equals": "-5", "amount_min": "-9"}, "amount_equals", "either"),
    ({"booked_from": "2024-02-01", "booked_to": "2024-01-01"}, "booked_from", "after"),
    ({"amount_min": "abc"}, "amount_min", "number"),
    ({"name": ""}, "name", "required"),
])
def test_bad_input_is_refused_next_to_the_field(org, changes, field, words):
    response = org.client("admin").post(org.url("rules/new/"), _form(org, **changes))
    assert response.status_code == 422
    page = response.content.decode()
    part = page[page.index(f'for="id_{field}"'):]
    assert words in part[:part.index("</div>")].lower()
    assert not Rule.objects.filter(tenant=org.tenant).exists()


def test_a_rule_without_conditions_or_actions_says_so_on_top(org):
    response = org.client("owner").post(org.url("rules/new/"), _form(org, description_value="", amount_sign=""))
    assert response.status_code == 422 and "needs at least one condition" in response.content.decode()
    response = org.client("owner").post(org.url("rules/new/"), _form(org, category=""))
    assert response.status_code == 422 and "needs at least one action" in response.content.decode()
    assert not Rule.objects.filter(tenant=org.tenant).exists()


def test_an_unknown_tag_is_refused_next_to_the_tags_field(org):
    response = org.client("owner").post(org.url("rules/new/"), _form(org, tags="nosuchtag"))
    assert response.status_code == 422
    page = response.content.decode()
    part = page[page.index('for="id_tags"'):]
    assert "errorlist" in part[:part.index("</div>")]
    assert not Rule.objects.filter(tenant=org.tenant).exists()


def test_editing_fills_the_form_and_saves_the_changes(org, account):
    rule = _rule(org, amount={"equals": "-9.99"}, account_id=account.pk)
    client = org.client("admin")
    page = client.get(org.url(f"rules/{rule.pk}/edit/")).content.decode()
    assert 'value="lidl"' in page and 'value="-9.99"' in page and f'value="{account.pk}" selected' in page
    response = client.post(org.url(f"rules/{rule.pk}/edit/"), _form(
        org, name="Renamed", description_operator="starts_with", description_value="LIDL", enabled=""))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.description_operator, rule.enabled, rule.amount_min, rule.account_id) == (
        "Renamed", "starts_with", False, None, None)


def test_editing_with_a_bad_regex_keeps_the_rule_as_it_was(org):
    rule = _rule(org)
    response = org.client("owner").post(org.url(f"rules/{rule.pk}/edit/"), _form(
        org, counterparty_operator="regex", counterparty_value=r"\w*\w*\w*x"))
    assert response.status_code == 422
    page = response.content.decode()
    part = page[page.index('for="id_counterparty_value"'):]
    assert "errorlist" in part[:part.index("</div>")]
    rule.refresh_from_db()
    assert rule.name == "Groceries at Lidl" and rule.counterparty_operator == ""


# --- enable, move, delete, defaults ---------------------------------------------------------------------


def test_toggle_move_and_delete(org):
    first, second, third = (_rule(org, name=name, value=name) for name in ("A", "B", "C"))
    client = org.client("owner")
    assert client.post(org.url(f"rules/{first.pk}/toggle/"), {"enabled": "0"}).status_code == 302
    first.refresh_from_db()
    assert not first.enabled
    assert "rule-disabled" in client.get(org.url("rules/")).content.decode()
    client.post(org.url(f"rules/{first.pk}/toggle/"), {"enabled": "1"})
    first.refresh_from_db()
    assert first.enabled

    client.post(org.url(f"rules/{third.pk}/move/"), {"direction": "up"})
    assert _order(org) == ["A", "C", "B"]
    client.post(org.url(f"rules/{first.pk}/move/"), {"direction": "up"})  # already first: nothing changes
    assert _order(org) == ["A", "C", "B"]
    client.post(org.url(f"rules/{first.pk}/move/"), {"direction": "down"})
    assert _order(org) == ["C", "A", "B"]
    assert client.post(org.url(f"rules/{first.pk}/move/"), {"direction": "sideways"}).status_code == 400

    assert "Delete “B”?" in client.get(org.url(f"rules/{second.pk}/delete/")).content.decode()
    assert client.post(org.url(f"rules/{second.pk}/delete/")).status_code == 302
    assert _order(org) == ["C", "A"]


def test_the_default_fee_rules_are_added_once(org):
    client = org.client("admin")
    client.post(org.url("rules/defaults/"))
    count = Rule.objects.filter(tenant=org.tenant).count()
    assert count == len(rule_services.DEFAULT_FEE_RULES)
    response = client.post(org.url("rules/defaults/"), follow=True)
    assert Rule.objects.filter(tenant=org.tenant).count() == count
    assert "already there" in response.content.decode()


# --- preview and apply -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "admin", "member", "viewer"])
def test_everyone_previews_and_only_managers_see_apply(org, account, who):
    _rule(org)
    factories.transaction(account, amount="-3", description="LIDL Berlin <i>x</i>")
    factories.transaction(account, amount="-4", description="Bakery")
    page = org.client(who).get(org.url("rules/preview/")).content.decode()
    assert "would change <strong>1</strong> past transaction." in page
    assert "LIDL Berlin &lt;i&gt;x&lt;/i&gt;" in page and "Bakery" not in page
    assert "none → Food › Groceries" in page
    assert ("Apply to 1 transaction" in page) == (who in MANAGERS)


def test_apply_changes_what_the_preview_counted_but_not_a_manual_category(org, account):
    _rule(org)
    lidl = factories.transaction(account, amount="-3", description="LIDL 1")
    manual = factories.transaction(account, amount="-3", description="LIDL 2",
                                   category_id=_cat(org.tenant, "Restaurants").pk)
    response = org.client("owner").post(org.url("rules/apply/"), follow=True)
    assert "1 transaction changed" in response.content.decode()
    lidl.refresh_from_db()
    manual.refresh_from_db()
    assert lidl.category == _cat(org.tenant, "Groceries") and lidl.category_source == CategorySource.RULE
    assert manual.category == _cat(org.tenant, "Restaurants")
    assert "would change <strong>0</strong>" in org.client("owner").get(org.url("rules/preview/")).content.decode()


# --- suggestions -----------------------------------------------------------------------------------------


@pytest.fixture
def learned(org, account):
    """History: Lidl is groceries; two new uncategorized Lidl payments and one nobody can guess."""
    groceries = _cat(org.tenant, "Groceries")
    for _ in range(3):
        factories.transaction(account, amount="-10", counterparty="Lidl", description="shop", category_id=groceries.pk)
    new = [factories.transaction(account, amount="-7", counterparty="Lidl", description=f"shop {i}") for i in (1, 2)]
    odd = factories.transaction(account, amount="500", counterparty="Zq", description="qqq")
    return groceries, new, odd


@pytest.mark.parametrize("who", ["owner", "admin", "member", "viewer"])
def test_the_suggestions_page_shows_category_and_confidence_and_buttons_by_role(org, learned, who):
    groceries, new, odd = learned
    page = org.client(who).get(org.url("suggestions/")).content.decode()
    row = page[page.index(f'id="sugg-{new[0].pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Food › Groceries" in row and "%" in row
    odd_row = page[page.index(f'id="sugg-{odd.pk}"'):]
    assert "no suggestion" in odd_row[:odd_row.index("</tr>")]
    can = who in ACCEPTERS
    assert ("Accept all 2 shown" in page) == can
    assert (f"/suggestions/{new[0].pk}/accept/" in page) == can


def test_a_viewer_is_refused_accepting(org, learned):
    groceries, new, _ = learned
    client = org.client("viewer")
    assert client.post(org.url(f"suggestions/{new[0].pk}/accept/"), {"category": groceries.pk}).status_code == 403
    assert client.post(org.url("suggestions/accept/"), {"accept": f"{new[0].pk}:{groceries.pk}"}).status_code == 403
    assert not Transaction.objects.filter(pk__in=[row.pk for row in new], category__isnull=False).exists()


@pytest.mark.parametrize("who", ACCEPTERS)
def test_accepting_one_swaps_its_row_and_sets_the_category_by_hand(org, learned, who):
    groceries, new, _ = learned
    response = org.client(who).post(org.url(f"suggestions/{new[0].pk}/accept/"), {"category": groceries.pk}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith(f'<tr id="sugg-{new[0].pk}"') and "Food › Groceries" in body
    new[0].refresh_from_db()
    assert new[0].category == groceries and new[0].category_source == CategorySource.MANUAL
    # Accepting it again: already categorized, said in the row.
    again = org.client(who).post(org.url(f"suggestions/{new[0].pk}/accept/"), {"category": groceries.pk}, **HTMX)
    assert again.status_code == 409 and "already categorized" in again.content.decode()


def test_accepting_another_tenants_category_is_refused(org, learned):
    _, new, _ = learned
    stranger = factories.organization(org.people["outsider"])
    theirs = _cat(stranger, "Groceries")
    response = org.client("member").post(org.url(f"suggestions/{new[0].pk}/accept/"), {"category": theirs.pk},
                                         follow=True)
    assert response.status_code == 200
    new[0].refresh_from_db()
    assert new[0].category_id is None


def test_accept_all_shown_categorizes_every_suggested_row(org, learned):
    groceries, new, odd = learned
    page = org.client("member").get(org.url("suggestions/")).content.decode()
    pairs = [f"{row.pk}:{groceries.pk}" for row in new]
    assert all(f'value="{pair}"' in page for pair in pairs)
    response = org.client("member").post(org.url("suggestions/accept/"), {"accept": pairs}, follow=True)
    assert "2 suggestions accepted." in response.content.decode()
    assert set(Transaction.objects.filter(category=groceries, pk__in=[r.pk for r in new]).values_list(
        "category_source", flat=True)) == {CategorySource.MANUAL}
    odd.refresh_from_db()
    assert odd.category_id is None


def test_the_suggestions_page_runs_a_bounded_number_of_queries(org, account, learned):
    client = org.client("member")
    with CaptureQueriesContext(connection) as few:
        assert client.get(org.url("suggestions/")).status_code == 200
    for index in range(25):
        factories.transaction(account, amount="-2", counterparty="Lidl", description=f"more {index}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(org.url("suggestions/")).content.decode()
    assert "more 24" in page and "Next page" in page  # 28 uncategorized: more than one page of 25
    assert len(many) == len(few)


def test_a_bad_cursor_is_a_400(org):
    assert org.client("viewer").get(org.url("suggestions/?cursor=nonsense")).status_code == 400
