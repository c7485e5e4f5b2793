"""The per-tenant selector cache: every write to a tenant's ledger is visible in the next read of every
cached selector, and only that tenant's entries are dropped.

Data is committed (transactional_db), so bumps run on commit exactly as in production and the real cache
(local memory, or Redis with REDIS_URL) is used.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from prometheus_client import REGISTRY

from coffer.imports import services as import_services
from coffer.insights import reports
from coffer.insights import selectors as insights
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger import rule_services
from coffer.ledger import services as ledger_services
from coffer.ledger import transfers as ledger_transfers
from coffer.ledger.models import Category, Transaction
from coffer.ops import tenant_cache
from tests import factories
from tests.imports.test_commit import row, stage

TODAY = dt.date(2024, 3, 20)
START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)

# (name, call): every cached selector, with the arguments the pages use.
SELECTORS = [
    ("insights.monthly_cashflow", lambda c, f: f(tenant=c["tenant"], months=3, today=TODAY)),
    ("insights.spending_by_category", lambda c, f: f(tenant=c["tenant"], start=START, end=END)),
    ("insights.balance_history", lambda c, f: f(account=c["main"], months=3, today=TODAY)),
    ("reports.cashflow", lambda c, f: f(tenant=c["tenant"], date_from=START, date_to=END)),
    ("reports.by_category", lambda c, f: f(tenant=c["tenant"], date_from=START, date_to=END)),
    ("reports.net_worth", lambda c, f: f(tenant=c["tenant"], date_from=START, date_to=END)),
    ("reports.budget_vs_actual", lambda c, f: f(tenant=c["tenant"], on=TODAY)),
]
FUNCTIONS = {
    "insights.monthly_cashflow": insights.monthly_cashflow, "insights.spending_by_category": insights.spending_by_category,
    "insights.balance_history": insights.balance_history, "reports.cashflow": reports.cashflow,
    "reports.by_category": reports.by_category, "reports.net_worth": reports.net_worth,
    "reports.budget_vs_actual": reports.budget_vs_actual,
}


def _count(selector: str, result: str) -> float:
    return REGISTRY.get_sample_value("coffer_tenant_cache_requests_total", {"name": selector, "result": result}) or 0.0


def hits(selector: str) -> float:
    return _count(selector, "hit")


def misses(selector: str) -> float:
    return _count(selector, "miss")


def read(books) -> dict:
    return {name: call(books, FUNCTIONS[name]) for name, call in SELECTORS}


def read_uncached(books) -> dict:
    return {name: call(books, FUNCTIONS[name].uncached) for name, call in SELECTORS}


@pytest.fixture
def books(transactional_db):
    owner = factories.user()
    tenant = factories.organization(owner)
    main = factories.account(tenant, name="Main", opening_balance="100.00")
    savings = factories.account(tenant, name="Savings")
    groceries = Category.objects.get(tenant=tenant, name="Groceries")
    ledger_budgets.budget_create(tenant=tenant, actor=owner, category_id=groceries.pk, amount="300.00", today=TODAY)
    coffee = factories.transaction(main, amount="-3.50", booked_on=dt.date(2024, 3, 5), description="Coffee")
    salary = factories.transaction(main, amount="1200.00", booked_on=dt.date(2024, 2, 1), description="Salary")
    return {"owner": owner, "tenant": tenant, "main": main, "savings": savings, "groceries": groceries,
            "coffee": coffee, "salary": salary}


def warm(books) -> dict:
    """Read every selector twice; the second read must come from the cache."""
    first = read(books)
    before = {name: hits(name) for name in FUNCTIONS}
    assert read(books) == first
    assert all(hits(name) == before[name] + 1 for name in FUNCTIONS)
    return first


# --- writes: each one must show in the next read of every cached selector ----------------------


def create(b):
    factories.transaction(b["main"], amount="-60.00", booked_on=dt.date(2024, 3, 10), category_id=b["groceries"].pk)


def update(b):
    ledger_services.transaction_update(tenant=b["tenant"], actor=b["owner"], transaction_id=b["coffee"].pk,
                                       changes={"amount": "-30.00", "category_id": b["groceries"].pk})


def delete(b):
    ledger_services.transaction_delete(tenant=b["tenant"], actor=b["owner"], transaction_id=b["salary"].pk)


def bulk_set_category(b):
    ledger_services.transaction_bulk_update(tenant=b["tenant"], actor=b["owner"], transaction_ids=[b["coffee"].pk],
                                            action="set_category", category_id=b["groceries"].pk)


def bulk_delete(b):
    ledger_services.transaction_bulk_update(tenant=b["tenant"], actor=b["owner"],
                                            transaction_ids=[b["coffee"].pk, b["salary"].pk], action="delete")


def import_commit(b):
    batch = stage(b["main"], [row(2, 4, "-80.00", "Supermarket"), row(3, 5, "500.00", "Bonus")])
    import_services.import_commit(tenant=b["tenant"], actor=b["owner"], import_id=batch.pk)


def rule_apply(b):
    rule_services.rule_create(tenant=b["tenant"], actor=b["owner"], name="Coffee is food",
                              conditions={"description": {"operator": "contains", "value": "Coffee"}},
                              actions={"category_id": b["groceries"].pk})
    warm(b)  # the rule itself bumps; its application must bump again
    assert rule_services.rule_apply(tenant=b["tenant"], actor=b["owner"]) == 1


def transfer_link(b):
    out = factories.transaction(b["main"], amount="-250.00", booked_on=dt.date(2024, 3, 12))
    into = factories.transaction(b["savings"], amount="250.00", booked_on=dt.date(2024, 3, 12))
    if Transaction.objects.get(pk=out.pk).transfer_pair_id:  # detected already: unlink, read, link by hand
        ledger_transfers.unlink(tenant=b["tenant"], actor=b["owner"], transaction_id=out.pk)
    warm(b)
    ledger_transfers.link(tenant=b["tenant"], actor=b["owner"], transaction_id=out.pk, pair_id=into.pk)


def account_opening_balance(b):
    ledger_services.account_update(tenant=b["tenant"], actor=b["owner"], account_id=b["main"].pk,
                                   changes={"opening_balance": "175.00"})


WRITES = [create, update, delete, bulk_set_category, bulk_delete, import_commit, rule_apply, transfer_link,
          account_opening_balance]


@pytest.mark.parametrize("write", WRITES, ids=[w.__name__ for w in WRITES])
def test_a_write_is_visible_in_the_next_read_of_every_cached_selector(books, write):
    before = warm(books)
    write(books)
    after = read(books)
    assert after == read_uncached(books)  # nothing stale, whatever the selector
    assert after != before  # the write did change what the selectors show


def test_import_undo_is_visible_in_the_next_read(books):
    batch = stage(books["main"], [row(2, 4, "-80.00", "Supermarket")])
    import_services.import_commit(tenant=books["tenant"], actor=books["owner"], import_id=batch.pk)
    committed = warm(books)
    import_services.import_undo(tenant=books["tenant"], actor=books["owner"], import_id=batch.pk)
    after = read(books)
    assert after == read_uncached(books)
    assert after != committed
    assert after["insights.balance_history"][-1].balance == Decimal("1296.50")


def test_another_tenants_write_leaves_this_tenants_cache_alone(books):
    warm(books)
    version = tenant_cache.version(books["tenant"].pk)
    other = factories.organization(factories.user())
    factories.transaction(factories.account(other), amount="-1.00", booked_on=dt.date(2024, 3, 1))
    assert tenant_cache.version(books["tenant"].pk) == version
    before = hits("reports.cashflow")
    read(books)
    assert hits("reports.cashflow") == before + 1


def test_a_write_bumps_the_version_once_on_commit_and_a_rollback_bumps_nothing(books):
    tenant_id = books["tenant"].pk
    version = tenant_cache.version(tenant_id)
    with transaction.atomic():
        create(books)
        update(books)  # several writes, one bump
        assert tenant_cache.version(tenant_id) == version  # not before the data is committed
    assert tenant_cache.version(tenant_id) == version + 1

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        delete(books)
        raise Abandon
    assert tenant_cache.version(tenant_id) == version + 1


def test_a_transaction_reads_its_own_uncommitted_writes_and_caches_none_of_them(books):
    before = warm(books)
    misses_before = misses("reports.cashflow")

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        create(books)
        inside = read(books)
        assert inside == read_uncached(books) and inside != before
        raise Abandon
    assert read(books) == before  # the rolled-back write was never cached
    assert misses("reports.cashflow") == misses_before


def test_a_missing_version_starts_at_a_number_never_used_before(books):
    warm(books)
    old = tenant_cache.version(books["tenant"].pk)
    cache.delete(f"tcache:{books['tenant'].pk}:v")  # evicted
    assert tenant_cache.version(books["tenant"].pk) > old


def test_different_arguments_are_different_entries(books):
    warm(books)
    three = insights.monthly_cashflow(tenant=books["tenant"], months=3, today=TODAY)
    two = insights.monthly_cashflow(tenant=books["tenant"], months=2, today=TODAY)
    assert len(three["EUR"]) == 3 and len(two["EUR"]) == 2


def test_a_bad_argument_is_refused_as_before_and_not_cached(books):
    from coffer import errors

    for _ in range(2):
        with pytest.raises(errors.ValidationError):
            insights.monthly_cashflow(tenant=books["tenant"], months=0, today=TODAY)


def test_a_result_read_before_a_write_and_stored_after_its_bump_is_never_served(books):
    """A slow reader: it reads the ledger, another request writes and commits (bump), then the reader
    stores what it read. The stored entry carries the version it was computed at, so it is not served."""
    tenant_id = books["tenant"].pk
    args = {"date_from": START, "date_to": END}

    def slow_read():
        stale = reports.cashflow.uncached(tenant=books["tenant"], **args)
        create(books)  # committed by "another request" before the reader stores its result
        return stale

    stale = tenant_cache.cached(tenant_id, "reports.cashflow", args, slow_read)
    fresh = reports.cashflow.uncached(tenant=books["tenant"], **args)
    assert stale != fresh
    assert tenant_cache.cached(tenant_id, "reports.cashflow", args, lambda: fresh) == fresh
    assert tenant_cache.cached(tenant_id, "reports.cashflow", args, lambda: pytest.fail("not cached")) == fresh


def test_a_missing_version_misses_even_an_entry_stored_before_the_eviction(books):
    warm(books)
    cache.delete(f"tcache:{books['tenant'].pk}:v")
    before = misses("reports.cashflow")
    read(books)
    assert misses("reports.cashflow") == before + 1
