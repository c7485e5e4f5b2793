"""Categorization rules in the ledger: matching, order, what is never overwritten, preview vs apply, imports,
default fee rules, bounded work, and the services' refusals."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.imports.models import ImportBatch
from coffer.ledger import defaults, rule_selectors, rule_services, rules
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Account, Category, Rule, RuleTag, Tag, Transaction, TransactionTag
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return factories.user()


@pytest.fixture
def tenant(owner):
    return factories.organization(owner)


@pytest.fixture
def account(tenant):
    return factories.account(tenant, name="Main")


def named(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def make_rule(tenant, owner, conditions, actions, name=None, **kwargs) -> Rule:
    return rule_services.rule_create(tenant=tenant, actor=owner, name=name or f"Rule {uuid.uuid4().hex[:6]}",
                                     conditions=conditions, actions=actions, **kwargs)


def txn(account, description="", amount="-10.00", **fields) -> Transaction:
    return factories.transaction(account, amount=amount, description=description, **fields)


def category_name(row) -> str | None:
    row = Transaction.objects.select_related("category").get(pk=row.pk)
    return row.category.name if row.category else None


def apply(tenant, owner, **scope) -> int:
    return rule_services.rule_apply(tenant=tenant, actor=owner, **scope)


def tags_of(row) -> list[str]:
    return sorted(Tag.objects.filter(links__transaction_id=row.pk).values_list("name", flat=True))


def snapshot(tenant) -> dict:
    rows = Transaction.objects.filter(tenant=tenant).values_list(
        "pk", "category_id", "category_source", "counterparty", "note", "updated_at"
    )
    tags: dict = {}
    for transaction_id, tag_id in TransactionTag.objects.filter(tenant=tenant).values_list("transaction_id", "tag_id"):
        tags.setdefault(transaction_id, set()).add(tag_id)
    return {row[0]: (*row[1:], frozenset(tags.get(row[0], ()))) for row in rows}


# --- matching -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["description", "counterparty", "reference"])
@pytest.mark.parametrize(("operator", "value", "matching"), [
    ("contains", "netflix", {"NETFLIX.COM 1234", "paypal *netflix", "Netflix"}),
    ("equals", "netflix", {"Netflix"}),
    ("starts_with", "netflix", {"NETFLIX.COM 1234", "Netflix"}),
    ("regex", r"^netflix(\.com)? ?\d*$", {"NETFLIX.COM 1234", "Netflix"}),
])
def test_each_text_operator_matches_its_field_case_insensitively(tenant, owner, account, field, operator, value,
                                                                  matching):
    texts = ["NETFLIX.COM 1234", "paypal *netflix", "Netflix", "Netfix typo", "Spotify"]
    rows = {text: txn(account, **{field: text}) for text in texts}
    make_rule(tenant, owner, {field: {"operator": operator, "value": value}}, {"category_id": named(tenant, "Streaming").pk})
    assert apply(tenant, owner) == len(matching)
    assert {text for text, row in rows.items() if category_name(row) == "Streaming"} == matching


@pytest.mark.parametrize(("amount", "matching"), [
    ({"equals": "-9.99"}, {"-9.99"}),
    ({"min": "-50", "max": "-9.99"}, {"-9.99", "-50.00", "-20.00"}),
    ({"min": "0.01"}, {"20.00", "9.99"}),
    ({"max": "-20"}, {"-50.00", "-20.00", "-120.00"}),
    ({"sign": "negative"}, {"-9.99", "-50.00", "-20.00", "-120.00"}),
    ({"sign": "positive"}, {"20.00", "9.99"}),
    ({"sign": "negative", "min": "-60"}, {"-9.99", "-50.00", "-20.00"}),
])
def test_amount_conditions_compare_signed_amounts(tenant, owner, account, amount, matching):
    amounts = ["-9.99", "-50.00", "-20.00", "-120.00", "20.00", "9.99", "0.00"]
    rows = {value: txn(account, "x", amount=value) for value in amounts}
    make_rule(tenant, owner, {"amount": amount}, {"note": "matched"})
    apply(tenant, owner)
    assert {value for value, row in rows.items() if Transaction.objects.get(pk=row.pk).note == "matched"} == matching


@pytest.fixture(autouse=True)
def _no_default_rules_at_tenant_creation(monkeypatch):
    """These tests start from a tenant without rules; the default fee rules are seeded explicitly where tested."""
    from types import SimpleNamespace

    from coffer.tenancy import services as tenancy_services
    monkeypatch.setattr(tenancy_services, "ledger_rule_services", SimpleNamespace(rule_defaults_seed=lambda **_: []))


def test_account_and_period_conditions_and_every_condition_must_hold(tenant, owner, account):
    other = factories.account(tenant, name="Card")
    inside = txn(account, "Shell fuel", booked_on=dt.date(2024, 3, 10))
    wrong_account = txn(other, "Shell fuel", booked_on=dt.date(2024, 3, 10))
    too_early = txn(account, "Shell fuel", booked_on=dt.date(2024, 2, 29))
    too_late = txn(account, "Shell fuel", booked_on=dt.date(2024, 4, 1))
    first_day = txn(account, "Shell fuel", booked_on=dt.date(2024, 3, 1))
    wrong_text = txn(account, "Aral fuel", booked_on=dt.date(2024, 3, 10))
    make_rule(tenant, owner, {
        "description": {"operator": "contains", "value": "shell"}, "account_id": account.pk,
        "booked_from": dt.date(2024, 3, 1), "booked_to": dt.date(2024, 3, 31), "amount": {"sign": "negative"},
    }, {"category_id": named(tenant, "Fuel").pk})
    assert apply(tenant, owner) == 2
    assert [category_name(row) for row in (inside, first_day)] == ["Fuel", "Fuel"]
    assert [category_name(row) for row in (wrong_account, too_early, too_late, wrong_text)] == [None] * 4


# --- order and what is kept -----------------------------------------------------------------------------


def test_the_first_matching_rule_wins_each_field_and_every_matching_rule_adds_its_tags(tenant, owner, account):
    for name in ("online", "amazon"):
        ledger_services.tag_create(tenant=tenant, actor=owner, name=name)
    row = txn(account, "AMZN Mktp DE 123", counterparty="AMZN MKTP")
    first = make_rule(tenant, owner, {"description": {"operator": "contains", "value": "amzn"}},
                      {"category_id": named(tenant, "Household").pk, "counterparty": "Amazon", "tags": ["amazon"]})
    second = make_rule(tenant, owner, {"description": {"operator": "starts_with", "value": "amzn mktp"}},
                       {"category_id": named(tenant, "Electronics").pk, "counterparty": "Amazon EU",
                        "note": "check the invoice", "tags": ["online", "amazon"]})
    assert apply(tenant, owner) == 1
    fresh = Transaction.objects.get(pk=row.pk)
    assert (category_name(row), fresh.category_source, fresh.counterparty, fresh.note) == (
        "Household", "rule", "Amazon", "check the invoice"
    )
    assert tags_of(row) == ["amazon", "online"]

    # A category an earlier run set is the rules' to change: reordered, the other rule wins.
    rule_services.rule_reorder(tenant=tenant, actor=owner, rule_ids=[second.pk, first.pk])
    assert apply(tenant, owner) == 1
    fresh = Transaction.objects.get(pk=row.pk)
    assert (category_name(row), fresh.counterparty, fresh.note) == ("Electronics", "Amazon EU", "check the invoice")


def test_a_category_set_by_hand_or_by_the_import_file_is_never_overwritten(tenant, owner, account):
    by_hand = txn(account, "Tesco Metro", category_id=named(tenant, "Restaurants").pk)
    from_file = txn(account, "Tesco Extra")
    Transaction.objects.filter(pk=from_file.pk).update(category=named(tenant, "Household"), category_source="import")
    by_rule_earlier = txn(account, "Tesco Express")
    Transaction.objects.filter(pk=by_rule_earlier.pk).update(category=named(tenant, "Household"), category_source="rule")
    untouched = txn(account, "Tesco")
    make_rule(tenant, owner, {"description": {"operator": "contains", "value": "tesco"}},
              {"category_id": named(tenant, "Groceries").pk})

    assert rule_selectors.rule_preview(tenant=tenant).count == 2
    assert apply(tenant, owner) == 2
    assert Transaction.objects.filter(pk=by_hand.pk).values_list("category__name", "category_source").get() == (
        "Restaurants", "manual")
    assert Transaction.objects.filter(pk=from_file.pk).values_list("category__name", "category_source").get() == (
        "Household", "import")
    for row in (by_rule_earlier, untouched):
        assert Transaction.objects.filter(pk=row.pk).values_list("category__name", "category_source").get() == (
            "Groceries", "rule")


def test_a_note_is_filled_when_empty_and_never_replaced(tenant, owner, account):
    empty = txn(account, "Gym")
    written = txn(account, "Gym", note="paid for Anna")
    make_rule(tenant, owner, {"description": {"operator": "equals", "value": "gym"}}, {"note": "monthly membership"})
    assert apply(tenant, owner) == 1
    assert Transaction.objects.get(pk=empty.pk).note == "monthly membership"
    assert Transaction.objects.get(pk=written.pk).note == "paid for Anna"


def test_conditions_see_each_transaction_as_it_was_before_the_run(tenant, owner, account):
    ledger_services.tag_create(tenant=tenant, actor=owner, name="shopping")
    row = txn(account, "card payment", counterparty="AMZN MKTP")
    make_rule(tenant, owner, {"counterparty": {"operator": "contains", "value": "amzn"}}, {"counterparty": "Amazon"})
    make_rule(tenant, owner, {"counterparty": {"operator": "equals", "value": "amazon"}}, {"tags": ["shopping"]})
    assert apply(tenant, owner) == 1
    assert (Transaction.objects.get(pk=row.pk).counterparty, tags_of(row)) == ("Amazon", [])
    assert apply(tenant, owner) == 1  # the next run sees the new counterparty
    assert tags_of(row) == ["shopping"]


def test_a_disabled_rule_or_one_with_an_archived_category_does_not_categorize(tenant, owner, account):
    row = txn(account, "Lidl")
    disabled = make_rule(tenant, owner, {"description": {"operator": "contains", "value": "lidl"}},
                         {"category_id": named(tenant, "Groceries").pk}, enabled=False)
    assert apply(tenant, owner) == 0
    rule_services.rule_update(tenant=tenant, actor=owner, rule_id=disabled.pk, changes={"enabled": True})
    ledger_services.category_update(tenant=tenant, actor=owner, category_id=named(tenant, "Food").pk,
                                    changes={"archived": True})
    assert rule_selectors.rule_preview(tenant=tenant).count == 0
    assert apply(tenant, owner) == 0
    assert category_name(row) is None


def test_tags_stop_at_the_per_transaction_limit(tenant, owner, account):
    names = [f"t{i:02d}" for i in range(defaults.MAX_TAGS_PER_TRANSACTION + 1)]
    for name in names:
        ledger_services.tag_create(tenant=tenant, actor=owner, name=name)
    full_but_one = txn(account, "x", tags=names[: defaults.MAX_TAGS_PER_TRANSACTION - 1])
    full = txn(account, "x", tags=names[: defaults.MAX_TAGS_PER_TRANSACTION])
    make_rule(tenant, owner, {"description": {"operator": "equals", "value": "x"}}, {"tags": names[-2:]})
    preview = rule_selectors.rule_preview(tenant=tenant)
    assert (preview.count, [item.tags_added for item in preview.sample]) == (1, [[names[-2]]])
    assert apply(tenant, owner) == 1
    assert len(tags_of(full_but_one)) == len(tags_of(full)) == defaults.MAX_TAGS_PER_TRANSACTION


# --- preview and apply ----------------------------------------------------------------------------------


def test_the_preview_counts_exactly_what_apply_changes_and_shows_the_new_values(tenant, owner, account):
    ledger_services.tag_create(tenant=tenant, actor=owner, name="subscription")
    groceries, streaming = named(tenant, "Groceries"), named(tenant, "Streaming")
    rows = [txn(account, f"REWE {i}", booked_on=dt.date(2024, 1, 1) + dt.timedelta(days=i)) for i in range(25)]
    rows += [txn(account, "Netflix", note="shared", booked_on=dt.date(2024, 3, 1))]
    rows += [txn(account, "Netflix", note="x", category_id=streaming.pk, tags=["subscription"])]  # nothing to change
    rows += [txn(account, "Rewe manual", category_id=named(tenant, "Restaurants").pk)]  # kept: manual
    rows += [txn(account, "Spotify")]  # no rule
    netflix = make_rule(tenant, owner, {"description": {"operator": "contains", "value": "netflix"}},
                        {"category_id": streaming.pk, "tags": ["subscription"], "note": "tv"})
    rewe = make_rule(tenant, owner, {"description": {"operator": "regex", "value": r"^rewe \d+$"}},
                     {"category_id": groceries.pk, "counterparty": "REWE Markt"})
    before = snapshot(tenant)

    preview = rule_selectors.rule_preview(tenant=tenant, sample_size=5)
    assert preview.count == 26
    assert len(preview.sample) == 5
    top = preview.sample[0]  # newest first: the Netflix row of March
    assert (top.transaction.pk, top.new_category_id, top.new_counterparty, top.new_note, top.tags_added,
            top.rule_ids) == (rows[25].pk, streaming.pk, None, None, ["subscription"], [netflix.pk])
    second = preview.sample[1]
    assert (second.transaction.pk, second.new_category_id, second.new_counterparty, second.rule_ids) == (
        rows[24].pk, groceries.pk, "REWE Markt", [rewe.pk])
    assert snapshot(tenant) == before  # a preview changes nothing

    assert apply(tenant, owner) == preview.count
    after = snapshot(tenant)
    changed = {pk for pk in before if before[pk] != after[pk]}
    assert len(changed) == preview.count
    assert changed == {row.pk for row in rows[:26]}
    assert rule_selectors.rule_preview(tenant=tenant).count == 0
    assert apply(tenant, owner) == 0
    entry = AuditEntry.objects.get(tenant=tenant, action="rule.apply")
    assert entry.actor == owner and entry.changes["transactions_changed"] == [None, 26]


def test_preview_and_apply_can_be_limited_to_an_account_and_a_period(tenant, owner, account):
    card = factories.account(tenant, name="Card")
    in_scope = txn(card, "Aldi", booked_on=dt.date(2024, 5, 5))
    other_account = txn(account, "Aldi", booked_on=dt.date(2024, 5, 5))
    other_period = txn(card, "Aldi", booked_on=dt.date(2024, 6, 5))
    make_rule(tenant, owner, {"description": {"operator": "equals", "value": "aldi"}},
              {"category_id": named(tenant, "Groceries").pk})
    scope = {"account_id": card.pk, "booked_from": dt.date(2024, 5, 1), "booked_to": dt.date(2024, 5, 31)}
    assert rule_selectors.rule_preview(tenant=tenant, **scope).count == 1
    assert apply(tenant, owner, **scope) == 1
    assert [category_name(row) for row in (in_scope, other_account, other_period)] == ["Groceries", None, None]


def test_another_tenants_account_is_not_a_scope(tenant, owner):
    theirs = factories.account(factories.organization(factories.user()))
    with pytest.raises(errors.ValidationError) as caught:
        apply(tenant, owner, account_id=theirs.pk)
    assert caught.value.field_errors == {"account_id": "No such account in this tenant."}


def test_applying_runs_a_number_of_queries_set_by_the_rules_not_by_the_transactions(tenant, owner, account):
    ledger_services.tag_create(tenant=tenant, actor=owner, name="food")
    for index in range(8):
        actions = {"category_id": named(tenant, "Groceries").pk}
        if index < 2:
            actions["tags"] = ["food"]
        make_rule(tenant, owner, {"description": {"operator": "contains", "value": f"shop{index}"}}, actions)

    def run_with(count: int) -> int:
        Transaction.objects.filter(tenant=tenant).delete()
        TransactionTag.objects.filter(tenant=tenant).delete()
        Transaction.objects.bulk_create(
            Transaction(tenant=tenant, account=account, booked_on=dt.date(2024, 1, 1), amount=-1,
                        description=f"shop{i % 8} #{i}")
            for i in range(count)
        )
        with count_queries() as queries, CaptureQueriesContext(connection) as captured:
            assert apply(tenant, owner) == count
        assert len(captured.captured_queries) == len(queries)  # Django's debug cursor reads the raw SQL back too
        return len(queries)

    small, large = run_with(16), run_with(240)
    assert small == large
    # The transaction (2), the rules (2), one COUNT, per rule with tags an UPDATE and an INSERT ... SELECT per tag,
    # one UPDATE for every field, the audit entry.
    assert large == 2 + 2 + 1 + 2 * 2 + 1 + 1
    links = TransactionTag.objects.filter(tenant=tenant)
    assert links.count() == 240 // 4  # shop0 and shop1 rows
    ids = list(links.values_list("id", flat=True))
    assert len(set(ids)) == len(ids) and {(link_id.version, link_id.variant) for link_id in ids} == {(7, uuid.RFC_4122)}
    now_ms = int(time.time() * 1000)
    assert all(abs((link_id.int >> 80) - now_ms) < 3_600_000 for link_id in ids)  # time-ordered: made now


# --- import ---------------------------------------------------------------------------------------------


def test_apply_to_import_changes_only_what_the_commit_just_added(tenant, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    statement = tmp_path / "statement.csv"
    statement.write_text(
        "Date,Description,Reference,Amount\n"
        "2024-08-02,NETFLIX.COM 5531,TX1,-12.99\n"
        "2024-08-03,Rewe Markt 17,TX2,-40.10\n"
        "2024-08-04,Salary August,TX3,2500.00\n"
    )
    out = io.StringIO()
    call_command("import", str(statement), "--tenant", tenant.slug, "--account", "Main", "--create-account", "EUR",
                 "--json", "--commit", stdout=out)
    result = json.loads(out.getvalue())
    assert result["status"] == "committed", result
    batch = ImportBatch.objects.get(pk=result["import_id"])
    main = Account.objects.get(tenant=tenant, name="Main")
    by_hand = txn(main, "NETFLIX.COM gift card")  # not part of the import
    make_rule(tenant, owner, {"description": {"operator": "regex", "value": r"^netflix\.com \d+$"}},
              {"category_id": named(tenant, "Streaming").pk})
    make_rule(tenant, owner, {"description": {"operator": "starts_with", "value": "salary"}, "amount": {"sign": "positive"}},
              {"category_id": named(tenant, "Salary").pk, "note": "payroll"})

    assert rules.apply_to_import(tenant, batch.pk) == 2
    imported = {row.description: row for row in Transaction.objects.filter(tenant=tenant, import_batch=batch)}
    assert category_name(imported["NETFLIX.COM 5531"]) == "Streaming"
    assert (category_name(imported["Salary August"]), imported["Salary August"].note) == ("Salary", "payroll")
    assert imported["Salary August"].category_source == "rule"
    assert category_name(imported["Rewe Markt 17"]) is None
    assert category_name(by_hand) is None
    entry = AuditEntry.objects.get(tenant=tenant, action="rule.apply", object_id=str(batch.pk))
    assert (entry.actor, entry.changes["transactions_changed"]) == (None, [None, 2])
    assert rules.apply_to_import(tenant, str(batch.pk)) == 0


def test_apply_to_import_without_rules_runs_nothing_but_reading_the_rules(tenant, account):
    with count_queries() as queries:
        assert rules.apply_to_import(tenant, uuid.uuid4()) == 0
    assert len([sql for sql in queries if "ledger_transaction" in sql]) == 0


# --- default fee rules ----------------------------------------------------------------------------------


def test_default_fee_rules_recognise_fees_and_are_added_once(tenant, owner, account):
    created = rule_services.rule_defaults_seed(tenant=tenant, actor=owner)
    assert [rule.name for rule in created] == [name for name, _, _ in rule_services.DEFAULT_FEE_RULES]
    assert rule_services.rule_defaults_seed(tenant=tenant, actor=owner) == []
    assert AuditEntry.objects.filter(tenant=tenant, action="rule.seed").count() == 1
    expected = {
        "Monthly account fee": "Account fees", "ANNUAL CARD FEE": "Card fees",
        "Foreign transaction fee 2.75%": "Foreign exchange fees", "Non-sterling transaction fee": "Foreign exchange fees",
        "Overdraft interest March": "Overdraft & interest", "Late payment fee": "Late fees",
        "Coffee shop": None,
    }
    rows = {text: txn(account, text, amount="-3.00") for text in expected}
    refund = txn(account, "Monthly account fee refund", amount="3.00")
    apply(tenant, owner)
    assert {text: category_name(row) for text, row in rows.items()} == expected
    assert category_name(refund) is None


def test_default_fee_rules_skip_a_fee_category_that_is_gone(tenant, owner):
    ledger_services.category_delete(tenant=tenant, actor=owner, category_id=named(tenant, "Late fees").pk)
    created = rule_services.rule_defaults_seed(tenant=tenant, actor=owner)
    assert "Late fees" not in [rule.name for rule in created] and len(created) == 4


# --- what deleting a category, tag or account does to rules --------------------------------------------


def test_deleting_a_rules_category_tag_or_account_leaves_no_dangling_reference(tenant, owner, account):
    ledger_services.tag_create(tenant=tenant, actor=owner, name="kids")
    pets = ledger_services.category_create(tenant=tenant, actor=owner, name="Pets", kind="expense")
    spare = factories.account(tenant, name="Spare")
    by_category = make_rule(tenant, owner, {"description": {"operator": "contains", "value": "zoo"}},
                            {"category_id": pets.pk, "tags": ["kids"]})
    by_account = make_rule(tenant, owner, {"account_id": spare.pk}, {"note": "spare"})
    ledger_services.category_delete(tenant=tenant, actor=owner, category_id=pets.pk)
    ledger_services.tag_delete(tenant=tenant, actor=owner, tag_id=Tag.objects.get(tenant=tenant, name="kids").pk)
    ledger_services.account_delete(tenant=tenant, actor=owner, account_id=spare.pk)
    assert Rule.objects.get(pk=by_category.pk).category_id is None
    assert not RuleTag.objects.filter(rule=by_category).exists()
    assert not Rule.objects.filter(pk=by_account.pk).exists()
    assert apply(tenant, owner) == 0


# --- the services refuse bad rules ----------------------------------------------------------------------


@pytest.mark.parametrize(("conditions", "actions", "field"), [
    ({}, {"note": "x"}, "conditions"),
    ({"description": {"operator": "contains", "value": "x"}}, {}, "actions"),
    ({"description": {"operator": "like", "value": "x"}}, {"note": "x"}, "conditions.description.operator"),
    ({"description": {"operator": "contains", "value": "  "}}, {"note": "x"}, "conditions.description.value"),
    ({"reference": {"operator": "regex", "value": "(a+)+"}}, {"note": "x"}, "conditions.reference.value"),
    ({"amount": {"equals": "1", "min": "0"}}, {"note": "x"}, "conditions.amount.equals"),
    ({"amount": {"min": "5", "max": "1"}}, {"note": "x"}, "conditions.amount.min"),
    ({"amount": {"sign": "negative", "min": "1"}}, {"note": "x"}, "conditions.amount.sign"),
    ({"amount": {"sign": "down"}}, {"note": "x"}, "conditions.amount.sign"),
    ({"amount": {"equals": "abc"}}, {"note": "x"}, "conditions.amount.equals"),
    ({"booked_from": dt.date(2024, 2, 1), "booked_to": dt.date(2024, 1, 1)}, {"note": "x"}, "conditions.booked_from"),
    ({"account_id": uuid.uuid4()}, {"note": "x"}, "conditions.account_id"),
    ({"colour": "red"}, {"note": "x"}, "conditions.colour"),
    ({"amount": {"sign": "negative"}}, {"category_id": uuid.uuid4()}, "actions.category_id"),
    ({"amount": {"sign": "negative"}}, {"tags": ["nope"]}, "actions.tags"),
    ({"amount": {"sign": "negative"}}, {"tags": [f"t{i}" for i in range(6)]}, "actions.tags"),
    ({"amount": {"sign": "negative"}}, {"note": "x" * 1001}, "actions.note"),
    ({"amount": {"sign": "negative"}}, {"delete": True}, "actions.delete"),
])
def test_a_bad_rule_is_refused_on_the_field_and_nothing_is_written(tenant, owner, conditions, actions, field):
    audit = AuditEntry.objects.filter(tenant=tenant).count()
    with pytest.raises(errors.ValidationError) as caught:
        make_rule(tenant, owner, conditions, actions)
    assert field in caught.value.field_errors
    assert not Rule.objects.filter(tenant=tenant).exists()
    assert AuditEntry.objects.filter(tenant=tenant).count() == audit


def test_another_tenants_account_category_and_tags_are_not_a_rules(tenant, owner):
    other_owner = factories.user()
    other = factories.organization(other_owner)
    ledger_services.tag_create(tenant=other, actor=other_owner, name="secret")
    for conditions, actions, field in [
        ({"account_id": factories.account(other).pk}, {"note": "x"}, "conditions.account_id"),
        ({"amount": {"sign": "negative"}}, {"category_id": named(other, "Groceries").pk}, "actions.category_id"),
        ({"amount": {"sign": "negative"}}, {"tags": ["secret"]}, "actions.tags"),
    ]:
        with pytest.raises(errors.ValidationError) as caught:
            make_rule(tenant, owner, conditions, actions)
        assert field in caught.value.field_errors
    assert not Rule.objects.filter(tenant=tenant).exists()


def test_an_archived_category_is_refused_for_a_new_rule(tenant, owner):
    ledger_services.category_update(tenant=tenant, actor=owner, category_id=named(tenant, "Taxes").pk,
                                    changes={"archived": True})
    with pytest.raises(errors.Conflict):
        make_rule(tenant, owner, {"amount": {"sign": "negative"}}, {"category_id": named(tenant, "Taxes").pk})


def test_a_tenant_has_at_most_the_rule_limit(tenant, owner):
    Rule.objects.bulk_create(
        Rule(tenant=tenant, name=f"r{i}", position=i, amount_sign="negative", set_note="x")
        for i in range(rules.MAX_RULES_PER_TENANT)
    )
    with pytest.raises(errors.Conflict) as caught:
        make_rule(tenant, owner, {"amount": {"sign": "negative"}}, {"note": "x"})
    assert str(rules.MAX_RULES_PER_TENANT) in caught.value.message


def test_an_update_replaces_conditions_and_actions_and_a_no_op_writes_nothing(tenant, owner):
    ledger_services.tag_create(tenant=tenant, actor=owner, name="a")
    rule = make_rule(tenant, owner, {"description": {"operator": "contains", "value": "x"}, "amount": {"sign": "negative"}},
                     {"note": "n", "tags": ["a"]}, name="First")
    updated = rule_services.rule_update(tenant=tenant, actor=owner, rule_id=rule.pk, changes={
        "name": "Second", "conditions": {"counterparty": {"operator": "equals", "value": "y"}},
        "actions": {"category_id": named(tenant, "Fuel").pk},
    })
    fresh = Rule.objects.get(pk=rule.pk)
    assert (fresh.name, fresh.description_operator, fresh.amount_sign, fresh.counterparty_value, fresh.category_id,
            fresh.set_note) == ("Second", "", "", "y", named(tenant, "Fuel").pk, "")
    assert not RuleTag.objects.filter(rule=rule).exists()
    entry = AuditEntry.objects.get(tenant=tenant, action="rule.update")
    assert entry.changes["tags"] == [["a"], []] and entry.changes["name"] == ["First", "Second"]
    count = AuditEntry.objects.filter(tenant=tenant).count()
    rule_services.rule_update(tenant=tenant, actor=owner, rule_id=rule.pk, changes={"name": "Second"})
    assert AuditEntry.objects.filter(tenant=tenant).count() == count
    assert updated.pk == rule.pk


def test_reordering_needs_every_rule_once_and_refuses_other_tenants_rules(tenant, owner):
    a, b, c = (make_rule(tenant, owner, {"amount": {"sign": "negative"}}, {"note": n}, name=n) for n in "abc")
    theirs = make_rule(factories.organization(owner), owner, {"amount": {"sign": "negative"}}, {"note": "t"})
    with pytest.raises(errors.ValidationError):
        rule_services.rule_reorder(tenant=tenant, actor=owner, rule_ids=[a.pk, b.pk])
    with pytest.raises(errors.ValidationError):
        rule_services.rule_reorder(tenant=tenant, actor=owner, rule_ids=[a.pk, b.pk, b.pk, c.pk])
    with pytest.raises(errors.NotFound):
        rule_services.rule_reorder(tenant=tenant, actor=owner, rule_ids=[a.pk, b.pk, theirs.pk])
    assert [rule.name for rule in rule_selectors.rule_list(tenant=tenant)] == ["a", "b", "c"]
    rule_services.rule_reorder(tenant=tenant, actor=owner, rule_ids=[c.pk, a.pk, b.pk])
    assert [(rule.name, rule.position) for rule in rule_selectors.rule_list(tenant=tenant)] == [("c", 1), ("a", 2), ("b", 3)]
    assert Rule.objects.get(pk=theirs.pk).position == 1


def test_the_import_commit_applies_the_rules_that_exist(tenant, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_rule(tenant, owner, {"description": {"operator": "contains", "value": "netflix"}},
              {"category_id": named(tenant, "Streaming").pk})
    statement = tmp_path / "statement.csv"
    statement.write_text("Date,Description,Amount\n2024-08-02,NETFLIX.COM 5531,-12.99\n2024-08-03,Bakery,-3.10\n")
    out = io.StringIO()
    call_command("import", str(statement), "--tenant", tenant.slug, "--account", "Main", "--create-account", "EUR",
                 "--json", "--commit", stdout=out)
    batch = ImportBatch.objects.get(pk=json.loads(out.getvalue())["import_id"])
    imported = {row.description: row for row in Transaction.objects.filter(tenant=tenant, import_batch=batch)}
    assert (category_name(imported["NETFLIX.COM 5531"]), imported["NETFLIX.COM 5531"].category_source) == (
        "Streaming", "rule")
    assert category_name(imported["Bakery"]) is None
