"""Category suggestions learned from the tenant's own history, and accepting one."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.ledger import rule_selectors, rule_services, suggestions
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Category, Transaction
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


def history(account, category, *rows) -> None:
    for description, counterparty, amount in rows:
        factories.transaction(account, description=description, counterparty=counterparty, amount=amount,
                              category_id=category.pk)


def suggest(tenant, description="", counterparty="", amount="-10") -> suggestions.Suggestion | None:
    return suggestions.learner_for(tenant).suggest(
        counterparty=counterparty, description=description, amount=Decimal(amount)
    )


def test_the_same_counterparty_suggests_its_category_with_a_confidence_that_grows_with_evidence(tenant, account):
    groceries = named(tenant, "Groceries")
    history(account, groceries, ("POS 1234 card", "TESCO STORES 3312", "-20"))
    once = suggest(tenant, "something", "Tesco Stores 991")
    assert (once.category_id, once.basis, once.confidence, once.seen) == (groceries.pk, "counterparty", 0.5, 1)
    history(account, groceries, ("x", "Tesco Stores", "-5"), ("y", "tesco stores", "-7"))
    thrice = suggest(tenant, "something", "TESCO STORES")
    assert (thrice.category_id, thrice.confidence, thrice.seen) == (groceries.pk, 0.75, 3)


def test_a_mixed_history_lowers_the_confidence_to_the_top_categorys_share(tenant, account):
    history(account, named(tenant, "Groceries"), *[("shop", "Migros", "-10")] * 3)
    history(account, named(tenant, "Restaurants"), ("lunch", "Migros", "-12"))
    suggestion = suggest(tenant, "", "MIGROS")
    assert (suggestion.category_id, suggestion.confidence) == (named(tenant, "Groceries").pk, 0.6)  # 3 / (4 + 1)


def test_the_same_description_counts_when_there_is_no_counterparty(tenant, account):
    history(account, named(tenant, "Rent / mortgage"), ("Rent flat 4B", "", "-900"), ("RENT FLAT 4B", "", "-900"))
    suggestion = suggest(tenant, "rent flat 4b", amount="-900")
    assert (suggestion.category_id, suggestion.basis) == (named(tenant, "Rent / mortgage").pk, "description")


def test_a_similar_counterparty_is_found_fuzzily_with_a_lower_confidence(tenant, account):
    history(account, named(tenant, "Fuel"), ("fuel", "Shell Oil", "-60"), ("fuel", "Shell Oil", "-55"))
    suggestion = suggest(tenant, "", "SHELL")
    assert (suggestion.category_id, suggestion.basis) == (named(tenant, "Fuel").pk, "similar_counterparty")
    assert 0 < suggestion.confidence < 2 / 3


def test_words_of_the_description_vote_when_nothing_else_matches(tenant, account):
    history(account, named(tenant, "Doctor"), ("Dental clinic invoice 77", "", "-80"),
            ("Dental clinic checkup", "", "-60"))
    suggestion = suggest(tenant, "Smile dental clinic Berlin")
    assert (suggestion.category_id, suggestion.basis) == (named(tenant, "Doctor").pk, "words")
    assert 0 < suggestion.confidence <= suggestions.WORDS_CEILING


def test_money_in_and_money_out_are_learned_apart(tenant, account):
    history(account, named(tenant, "Groceries"), ("shop", "Tesco", "-10"), ("shop", "Tesco", "-12"))
    assert suggest(tenant, "refund", "Tesco", amount="10") is None
    history(account, named(tenant, "Refunds"), ("refund", "Tesco", "10"))
    assert suggest(tenant, "refund", "Tesco", amount="4").category_id == named(tenant, "Refunds").pk


def test_nothing_is_suggested_without_history_or_from_archived_categories(tenant, owner, account):
    assert suggest(tenant, "Spotify", "Spotify AB") is None
    history(account, named(tenant, "Streaming"), ("Spotify", "Spotify AB", "-9.99"))
    assert suggest(tenant, "Spotify", "Spotify AB") is not None
    ledger_services.category_update(tenant=tenant, actor=owner, category_id=named(tenant, "Subscriptions").pk,
                                    changes={"archived": True})
    assert suggest(tenant, "Spotify", "Spotify AB") is None


def test_confidence_is_always_between_zero_and_one(tenant, account):
    history(account, named(tenant, "Groceries"), *[("REWE sagt danke", "REWE", "-10")] * 40)
    for description, counterparty in [("REWE sagt danke", "REWE"), ("rewe", ""), ("REWE CITY", "REWE City"),
                                      ("sagt danke", ""), ("x", "y")]:
        suggestion = suggest(tenant, description, counterparty)
        assert suggestion is None or 0 <= suggestion.confidence <= 1


def test_a_page_of_suggestions_runs_a_fixed_number_of_queries(tenant, account):
    history(account, named(tenant, "Groceries"), *[(f"REWE {i}", "REWE", "-10") for i in range(30)])
    counts = []
    for extra in (5, 60):
        Transaction.objects.bulk_create(
            Transaction(tenant=tenant, account=account, booked_on=dt.date(2024, 2, 1), amount=-3,
                        description=f"rewe {i}", counterparty="Rewe")
            for i in range(extra)
        )
        with count_queries() as queries:
            items, next_key = rule_selectors.suggestion_page(tenant=tenant, limit=50)
        counts.append(len(queries))
        assert all(item.suggestion.category_id == named(tenant, "Groceries").pk for item in items)
        assert all(item.category.name == "Groceries" and item.category.parent.name == "Food" for item in items)
    assert counts[0] == counts[1] <= 4
    assert next_key is not None and len(items) == 50


def test_accepting_a_suggestion_sets_a_manual_category_no_rule_replaces(tenant, owner, account):
    history(account, named(tenant, "Groceries"), ("shop", "Aldi", "-10"), ("shop", "Aldi", "-11"))
    row = factories.transaction(account, description="ALDI SUED 55", counterparty="ALDI", amount="-23")
    accepted = rule_services.suggestion_accept(tenant=tenant, actor=owner, transaction_id=row.pk)
    assert (accepted.category_id, accepted.category_source) == (named(tenant, "Groceries").pk, "manual")
    entry = AuditEntry.objects.get(tenant=tenant, action="suggestion.accept", object_id=str(row.pk))
    assert entry.changes["category_source"] == ["", "manual"] and entry.changes["confidence"] == [None, 0.667]

    rule_services.rule_create(tenant=tenant, actor=owner, name="Aldi", conditions={
        "counterparty": {"operator": "equals", "value": "aldi"}}, actions={"category_id": named(tenant, "Household").pk})
    rule_services.rule_apply(tenant=tenant, actor=owner)
    assert Transaction.objects.get(pk=row.pk).category_id == named(tenant, "Groceries").pk


def test_accepting_with_a_category_takes_that_one(tenant, owner, account):
    row = factories.transaction(account, description="Kiosk")
    rule_services.suggestion_accept(tenant=tenant, actor=owner, transaction_id=row.pk,
                                    category_id=named(tenant, "Restaurants").pk)
    assert Transaction.objects.filter(pk=row.pk).values_list("category__name", "category_source").get() == (
        "Restaurants", "manual")


def test_accepting_is_refused_when_categorized_unsuggested_or_not_the_tenants(tenant, owner, account):
    categorized = factories.transaction(account, description="Aldi", category_id=named(tenant, "Groceries").pk)
    plain = factories.transaction(account, description="Nothing like it")
    theirs = factories.transaction(factories.account(factories.organization(factories.user())), description="x")
    audit = AuditEntry.objects.filter(tenant=tenant).count()
    with pytest.raises(errors.Conflict, match="already categorized"):
        rule_services.suggestion_accept(tenant=tenant, actor=owner, transaction_id=categorized.pk,
                                        category_id=named(tenant, "Fuel").pk)
    with pytest.raises(errors.Conflict, match="no suggestion"):
        rule_services.suggestion_accept(tenant=tenant, actor=owner, transaction_id=plain.pk)
    with pytest.raises(errors.ValidationError):
        rule_services.suggestion_accept(tenant=tenant, actor=owner, transaction_id=plain.pk, category_id=uuid.uuid4())
    with pytest.raises(errors.NotFound):
        rule_services.suggestion_accept(tenant=tenant, actor=owner, transaction_id=theirs.pk,
                                        category_id=named(tenant, "Fuel").pk)
    assert Transaction.objects.get(pk=categorized.pk).category_id == named(tenant, "Groceries").pk
    assert Transaction.objects.get(pk=plain.pk).category_id is None
    assert Transaction.objects.get(pk=theirs.pk).category_id is None
    assert AuditEntry.objects.filter(tenant=tenant).count() == audit
