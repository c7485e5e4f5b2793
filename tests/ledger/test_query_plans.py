"""The hot reads use an index led by the tenant, never a sequential scan of the transactions (PostgreSQL).

A realistic ledger (many tenants x thousands of transactions, ANALYZEd) is built once for the module;
each case runs a real selector or page, captures the SQL it sent, and asks PostgreSQL for the plan.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coffer.api import pagination
from coffer.insights import reports
from coffer.insights import selectors as insights_selectors
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger.models import Budget, Category, Tag, TransactionTag
from tests import factories

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="query plans are PostgreSQL's; SQLite has no planner statistics worth asserting on "
           "(CI runs this module in its PostgreSQL suite)",
)

TENANTS = 20
ROWS_PER_TENANT = 2000
ROWS_OF_THE_BIG_ONE = 20_000  # the tenant every case reads: a business with years of history
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 3 * 365
TODAY = dt.date(2026, 6, 15)
RARE_WORD = "ZANZIBAR"

_INSERT = """
INSERT INTO ledger_transaction (id, tenant_id, account_id, booked_on, amount, description, counterparty,
                                reference, note, category_id, category_source, created_at, updated_at)
SELECT gen_random_uuid(), %(tenant)s, (%(accounts)s::uuid[])[1 + g %% cardinality(%(accounts)s::uuid[])],
       %(first)s::date + (g * 7919 %% %(days)s),
       round(((g * 37 %% 4000) - 3000) / 10.0, 2),
       CASE WHEN g %% 997 = 0 THEN 'Ferry ' || %(rare)s ELSE 'Card payment ' || md5(g::text) END,
       'Shop ' || (g %% 300), 'REF-' || g, '',
       CASE WHEN g %% 5 = 0 THEN NULL
            ELSE (%(categories)s::uuid[])[1 + g %% cardinality(%(categories)s::uuid[])] END,
       '', now(), now()
FROM generate_series(1, %(rows)s) AS g
"""


class Ledger:
    def __init__(self, owner, tenant, accounts, category, tag):
        self.owner, self.tenant, self.accounts, self.category, self.tag = owner, tenant, accounts, category, tag


@pytest.fixture(scope="module")
def ledger(django_db_setup, django_db_blocker):
    """Built in one transaction that is rolled back at the end of the module; each test's own `db`
    transaction nests inside it as a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        owner = factories.user(name="Planner")
        tenants = [factories.organization(owner, name=f"Plans {n}") for n in range(TENANTS)]
        wanted = None
        for index, tenant in enumerate(tenants):
            accounts = [factories.account(tenant, name=f"Acc {n}", currency=("EUR", "USD")[n % 2]) for n in range(3)]
            categories = list(Category.objects.filter(tenant=tenant).values_list("pk", flat=True))
            with connection.cursor() as cursor:
                cursor.execute(_INSERT, {
                    "tenant": tenant.pk, "accounts": [a.pk for a in accounts], "categories": categories,
                    "first": FIRST_DAY, "days": DAYS, "rows": ROWS_OF_THE_BIG_ONE if index == 0 else ROWS_PER_TENANT,
                    "rare": RARE_WORD,
                })
            if index == 0:
                expense = Category.objects.filter(tenant=tenant, kind=Category.Kind.EXPENSE, parent=None).first()
                for n, category in enumerate(Category.objects.filter(tenant=tenant, kind=Category.Kind.EXPENSE)[:10]):
                    Budget.objects.create(tenant=tenant, category=category, amount=Decimal(100 + n), currency="EUR",
                                          rollover=bool(n % 2), starts_on=dt.date(2025, 1, 1))
                tag = Tag.objects.create(tenant=tenant, name="holiday")
                TransactionTag.objects.bulk_create(
                    TransactionTag(tenant=tenant, tag=tag, transaction_id=pk)
                    for pk in tenant.transactions.order_by("pk").values_list("pk", flat=True)[:100:7]
                )
                wanted = Ledger(owner, tenant, accounts, expense, tag)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the bulk insert's foreign keys once, now
            # What autovacuum does in a live database: move the GIN indexes' pending entries into the index
            # (the planner prices a long pending list as a full read of it).
            for column in ("description", "counterparty", "reference"):
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [f"txn_{column}_trgm"])
            for table in ("ledger_transaction", "ledger_transactiontag", "ledger_account", "ledger_category"):
                cursor.execute(f"ANALYZE {table}")
        yield wanted
        transaction.set_rollback(True)


def _index_columns() -> dict[str, tuple[str, str]]:
    """Index name -> (table, first column or expression) for the public schema."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid, 1, true)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema()
        """)
        return {name: (table, first) for name, table, first in cursor.fetchall()}


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _plans(captured) -> list[tuple[str, list[dict]]]:
    """(sql, plan nodes) of every captured statement that reads ledger_transaction."""
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if '"ledger_transaction"' not in sql or not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            raw = cursor.fetchone()[0]
        plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
        found.append((sql, list(_nodes(plan))))
    return found


def assert_tenant_index(captured, *, expect_index: str | None = None) -> set[str]:
    plans = _plans(captured)
    assert plans, "the selector read no transactions"
    indexes = _index_columns()
    every_used = set()
    for sql, nodes in plans:
        seq = [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "ledger_transaction"]
        assert not seq, f"sequential scan of ledger_transaction for:\n{sql}"
        used = {n["Index Name"] for n in nodes if "Index Name" in n}
        on_transactions = {name for name in used if indexes[name][0] == "ledger_transaction"}
        assert on_transactions, f"no index of ledger_transaction used for:\n{sql}\n{nodes}"
        # A lookup by primary key (rows found through another tenant-led index, e.g. a tag's) is fine.
        for name in on_transactions - {"ledger_transaction_pkey"}:
            assert indexes[name][1] == "tenant_id", f"{name} does not lead with the tenant:\n{sql}\n{nodes}"
        every_used |= on_transactions
    if expect_index:
        assert expect_index in every_used, f"{expect_index} not used; used {sorted(every_used)}"
    return every_used


def _page(ledger, **filters):
    with CaptureQueriesContext(connection) as captured:
        rows, _ = ledger_selectors.transaction_page(tenant=ledger.tenant, limit=pagination.DEFAULT_PAGE_SIZE, **filters)
    assert rows, filters  # the data matches, so the plan is for a real page
    return captured


def test_api_list_in_its_default_order_reads_the_tenant_date_index(db, ledger):
    assert_tenant_index(_page(ledger), expect_index="txn_tenant_date")


def test_web_list_with_its_default_sort_reads_the_tenant_date_index(db, ledger):
    client = Client()
    client.force_login(ledger.owner)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("web:transaction_list", kwargs={"tenant_slug": ledger.tenant.slug}))
    assert response.status_code == 200
    assert_tenant_index(captured, expect_index="txn_tenant_date")


@pytest.mark.parametrize(("name", "filters"), [
    ("by_account_and_date", lambda l: {"account_id": l.accounts[0].pk}),
    ("by_account_and_amount", lambda l: {"account_id": l.accounts[1].pk, "sort": "-amount"}),
    ("by_amount", lambda l: {"sort": "amount"}),
    ("oldest_first", lambda l: {"sort": "booked_on"}),
    ("date_range", lambda l: {"booked_from": dt.date(2025, 3, 1), "booked_to": dt.date(2025, 3, 31)}),
    ("amount_range", lambda l: {"amount_min": Decimal("-50"), "amount_max": Decimal("-40")}),
    ("category_tree", lambda l: {"category": l.category.pk}),
    ("uncategorized", lambda l: {"category": ledger_selectors.UNCATEGORIZED}),
    ("tag", lambda l: {"tag": "Holiday"}),
    ("common_text", lambda l: {"text": "shop 12"}),
    ("everything", lambda l: {"account_id": l.accounts[0].pk, "booked_from": dt.date(2024, 6, 1),
                              "amount_max": Decimal("0"), "text": "card"}),
])
def test_every_list_filter_and_sort_reads_a_tenant_index(db, ledger, name, filters):
    assert_tenant_index(_page(ledger, **filters(ledger)))


@pytest.mark.parametrize("sort", ["-booked_on", "booked_on", "-amount", "amount"])
def test_a_page_deep_in_the_list_seeks_to_its_cursor_instead_of_reading_every_row_before_it(db, ledger, sort):
    rows, cursor = ledger_selectors.transaction_page(tenant=ledger.tenant, limit=100, sort=sort)
    for _ in range(100):  # ~10,000 rows down the 20,000 of this tenant
        rows, cursor = ledger_selectors.transaction_page(tenant=ledger.tenant, limit=100, sort=sort, after=cursor)
    field = sort.lstrip("-")
    captured = _page(ledger, sort=sort, after=cursor)
    ((sql, nodes),) = _plans(captured)
    seeks = [node for node in nodes if "Index Name" in node and field in node.get("Index Cond", "")]
    assert seeks, f"the cursor on {field} is not an index condition:\n{sql}\n{nodes}"


def test_a_rare_text_search_reads_the_trigram_indexes(db, ledger):
    plans = _plans(_page(ledger, text=RARE_WORD.lower()))
    used = {node.get("Index Name") for _, nodes in plans for node in nodes}
    assert {"txn_description_trgm", "txn_counterparty_trgm", "txn_reference_trgm"} <= used, used
    assert not any(node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "ledger_transaction"
                   for _, nodes in plans for node in nodes)


def test_budget_progress_reads_a_tenant_index(db, ledger):
    with CaptureQueriesContext(connection) as captured:
        progress = ledger_budgets.budget_progress(
            tenant=ledger.tenant, budgets=ledger_budgets.budget_list(tenant=ledger.tenant), on=TODAY)
    assert any(line.spent for line in progress)
    assert_tenant_index(captured)


@pytest.mark.parametrize("report", [reports.cashflow, reports.by_category, reports.net_worth])
def test_reports_over_a_year_read_a_tenant_index(db, ledger, report):
    with CaptureQueriesContext(connection) as captured:
        found = report.uncached(tenant=ledger.tenant, date_from=dt.date(2025, 6, 1), date_to=dt.date(2026, 5, 31))
    assert found.by_currency
    assert_tenant_index(captured)


def test_dashboard_aggregates_read_a_tenant_index(db, ledger):
    with CaptureQueriesContext(connection) as captured:
        flow = insights_selectors.monthly_cashflow.uncached(tenant=ledger.tenant, months=12, today=TODAY)
        spending = insights_selectors.spending_by_category.uncached(
            tenant=ledger.tenant, start=dt.date(2026, 6, 1), end=TODAY)
    assert flow and spending
    assert_tenant_index(captured)



