"""The transaction list runs the same number of queries for 5 or 100 rows with every filter and sort, rows
carrying tags and categories (the API; the web list pages are counted in tests/web/test_transactions.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from coffer.ledger.models import Category, Tag, Transaction, TransactionTag
from tests import factories
from tests.api.teams import make_team
from tests.querycount import count_queries

ROWS = 130


@pytest.fixture
def books(transactional_db):
    team = make_team()
    tenant = team["tenant"]
    accounts = [factories.account(tenant, name=f"Acc {n}") for n in range(2)]
    groceries = Category.objects.filter(tenant=tenant, kind=Category.Kind.EXPENSE, parent=None).first()
    sub = Category.objects.create(tenant=tenant, parent=groceries, name="Market", kind=Category.Kind.EXPENSE)
    rows = Transaction.objects.bulk_create(
        Transaction(tenant=tenant, account=accounts[i % 2], booked_on=dt.date(2024, 1, 1) + dt.timedelta(days=i),
                    amount=Decimal(-i), description=f"Corner shop {i}", counterparty="Corner",
                    category=(groceries, sub)[i % 2])
        for i in range(ROWS)
    )
    tags = [Tag.objects.create(tenant=tenant, name=name) for name in ("food", "weekly", "cash")]
    TransactionTag.objects.bulk_create(
        TransactionTag(tenant=tenant, transaction=row, tag=tag) for row in rows for tag in tags
    )
    return {**team, "accounts": accounts, "category": groceries}


FILTERS = {
    "default": lambda b: {},
    "account": lambda b: {"account": str(b["accounts"][0].pk), "sort": "-amount"},
    "period_and_amount": lambda b: {"booked_from": "2024-01-01", "booked_to": "2024-12-31", "amount_max": "0"},
    "text": lambda b: {"q": "corner"},
    "category_tree": lambda b: {"category": str(b["category"].pk), "sort": "booked_on"},
    "tag": lambda b: {"tag": "FOOD", "sort": "amount"},
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_the_api_list_runs_the_same_queries_for_5_or_100_rows_with_each_filter(client_api, books, name):
    tenant, headers = books["tenant"], factories.auth_headers(books["viewer"])
    path = f"/api/v1/tenants/{tenant.slug}/transactions"
    params = FILTERS[name](books)
    client_api.get(path, headers=headers)  # warm the cached membership look-up: both counts see it cached
    counts = []
    for limit in (5, 100):
        with count_queries() as queries:
            response = client_api.get(path, headers=headers, params={**params, "limit": limit})
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == limit or (limit == 100 and len(items) > 50)  # one account holds half the rows
        assert all(item["tags"] for item in items)  # tags come along, in one query for the page
        counts.append(len(queries))
    assert counts[0] == counts[1], name


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_the_web_list_runs_the_same_queries_for_5_or_130_matching_rows_with_each_filter(books, name):
    tenant = books["tenant"]
    client = Client()
    client.force_login(books["viewer"])
    query = FILTERS[name](books)
    url = f"/t/{tenant.slug}/transactions/"
    first = client.get(url, query)
    assert first.status_code == 200 and len(first.context["rows"]) == 50
    with CaptureQueriesContext(connection) as many:
        client.get(url, query)
    Transaction.objects.filter(tenant=tenant).exclude(pk__in=[row.pk for row in first.context["rows"][:5]]).delete()
    with CaptureQueriesContext(connection) as few:
        response = client.get(url, query)
    assert len(response.context["rows"]) == 5
    assert len(few.captured_queries) == len(many.captured_queries), name
