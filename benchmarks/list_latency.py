"""Paginated list latency against the tenant's ledger size (issue 7: "flat from 10k to 10M"); print one JSON object.

    python benchmarks/list_latency.py [--sizes 10000,100000,1000000] [--repeat 30]

One database, one tenant per size (slug `bench-lists-<size>`, four accounts, rows spread over three
years, written by `loadtest/seed.py`: COPY on PostgreSQL, `bulk_create` elsewhere). A tenant already
seeded with its size is reused, so a second run only measures. Every tenant's reads run with the
other tenants' rows in the same table, as in production. For each size, each read the API and the
pages make is called through `coffer.ledger.selectors` exactly as the routes call it, `--repeat`
times after one warm-up call; the JSON holds the median and p95 in ms, the SQL statements per call
and, per read, `flatness` = largest median / smallest median over the sizes.

Default sizes: 10000,100000 on SQLite, 10000,100000,1000000 on PostgreSQL. DATABASE_URL picks the
database (default: SQLite under COFFER_VAR_DIR). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffer.settings")

SLUG = "bench-lists-{}"
EMAIL = "owner-bench-lists-{}@example.test"  # the owner's personal space takes the address's slug
PASSWORD = "benchmark-password-123"
TODAY = dt.date(2026, 11, 30)  # fixed, so the month filter finds the same rows on every run
DEFAULT_SIZES = {"sqlite": "10000,100000", "postgresql": "10000,100000,1000000"}
LIMIT = 50  # the API's and the pages' page size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", help="transactions per tenant, comma-separated "
                                        "(default: 10000,100000 on SQLite, 10000,100000,1000000 on PostgreSQL)")
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per read and size (default 30)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    sizes_text = args.sizes or DEFAULT_SIZES.get(connection.vendor, "10000")
    sizes = sorted({int(size.replace("_", "")) for size in sizes_text.split(",")})

    seeded = {size: _tenant(size) for size in sizes}  # every tenant first: each is measured beside all the others
    if connection.vendor == "postgresql" and any(seconds is not None for _, seconds in seeded.values()):
        with connection.cursor() as cursor:  # what autovacuum would have done by the time anyone reads
            cursor.execute("VACUUM ANALYZE ledger_transaction")
    from coffer.ledger.models import Transaction

    table_rows = Transaction.objects.count()
    timings: dict[str, dict[str, dict]] = {}
    for size in sizes:
        tenant, _ = seeded[size]
        for name, result in _measure(tenant, repeat=args.repeat).items():
            timings.setdefault(name, {})[str(size)] = result
    flatness = {}  # largest median over smallest, per read
    for name, by_size in timings.items():
        medians = [result["median_ms"] for result in by_size.values()]
        flatness[name] = round(max(medians) / max(min(medians), 0.001), 2)
    print(json.dumps({
        "database": connection.vendor, "sizes": sizes, "table_rows": table_rows, "repeat": args.repeat, "limit": LIMIT,
        "seed_seconds": {str(size): seconds for size, (_, seconds) in seeded.items()},  # null: reused
        "flatness": flatness, "timings": timings,
    }))


def _tenant(size: int):
    """The tenant `bench-lists-<size>` with exactly `size` transactions: reused if there, else (re)seeded.

    Returns (tenant, seconds spent seeding or None when reused)."""
    from django.db import connection

    from coffer.ledger.models import Account, Transaction
    from coffer.tenancy import services as tenancy_services
    from coffer.tenancy.models import Tenant, User
    from loadtest import seed

    tenant = Tenant.objects.filter(slug=SLUG.format(size), kind=Tenant.Kind.ORGANIZATION).first()
    if tenant is not None and Transaction.objects.filter(tenant=tenant).count() == size:
        return tenant, None
    started = time.perf_counter()
    owner = User.objects.filter(email=EMAIL.format(size)).first() or tenancy_services.user_sign_up(
        email=EMAIL.format(size), password=PASSWORD)
    if tenant is None:
        tenant = tenancy_services.organization_create(actor=owner, name=f"Bench lists {size:,}", slug=SLUG.format(size))
    Transaction.objects.filter(tenant=tenant).delete()  # an interrupted earlier seed: start over
    accounts = list(Account.objects.filter(tenant=tenant).order_by("name"))
    if len(accounts) != len(seed.ACCOUNTS):
        Account.objects.filter(tenant=tenant).delete()
        accounts = seed._accounts(tenant)
    by_name = {account.name: account for account in accounts}
    accounts = [by_name[name] for name, *_ in seed.ACCOUNTS]  # in ACCOUNTS order: the shares follow it
    seed._ledger(tenant, accounts, count=size, actor=owner, rng=random.Random(size), today=TODAY)
    seed._balances([tenant])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ledger_transaction")
    return tenant, round(time.perf_counter() - started, 1)


def _reads(tenant) -> dict:
    """name -> a call of the selector as the API route or the page makes it."""
    from coffer.ledger import selectors
    from coffer.ledger.models import Account, Category, Transaction

    accounts = {a.name: a.pk for a in Account.objects.filter(tenant=tenant)}
    groceries = Category.objects.filter(tenant=tenant, name="Groceries").values_list("pk", flat=True).first()
    size = Transaction.objects.filter(tenant=tenant).count()

    # The cursor of page 21, walked page by page like a person scrolling; and the cursor the selector would
    # hand out for the row 75% down (the same [sort, value, id] key: reaching it by walking would take
    # size * 0.75 / 50 calls).
    after = None
    for _ in range(20):
        _, next_key = selectors.transaction_page(tenant=tenant, limit=LIMIT, after=after)
        if next_key is None:  # a small ledger: its last page
            break
        after = next_key
    page_21 = after
    row = (Transaction.objects.filter(tenant=tenant).order_by("-booked_on", "-id")
           .values_list("booked_on", "id")[max(int(size * 0.75) - 1, 0)])
    deep = ["-booked_on", str(row[0]), str(row[1])]
    month_from = (TODAY.replace(day=1) - dt.timedelta(days=540)).replace(day=1)
    month_to = (month_from + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)

    def page(**filters):
        return lambda: selectors.transaction_page(tenant=tenant, limit=LIMIT, **filters)

    return {
        "first_page": page(),
        "page_21_by_cursor": page(after=page_21),
        "page_at_75pct_by_cursor": page(after=deep),
        "account_50pct": page(account_id=accounts["Operating account"]),
        "account_5pct": page(account_id=accounts["Savings"]),
        "month": page(booked_from=month_from, booked_to=month_to),
        "text_common": page(text="lidl"),  # a counterparty: ~1% of the rows
        "text_rare": page(text="LT-0004321"),  # a bank reference: one row per tenant that has that many
        "text_no_match": page(text="no such shop"),
        "amount_range": page(amount_min=Decimal("-50.00"), amount_max=Decimal("-20.00")),
        "amount_exact": page(amount_min=Decimal("-42.17"), amount_max=Decimal("-42.17")),
        "category": page(category=groceries),
        "uncategorized": page(category=selectors.UNCATEGORIZED),
        "sort_amount": page(sort="-amount"),
        "account_page": lambda: selectors.account_page(tenant=tenant, limit=LIMIT),
    }


def _measure(tenant, *, repeat: int) -> dict[str, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {}
    for name, call in _reads(tenant).items():
        with CaptureQueriesContext(connection) as queries:
            rows, _ = call()  # warm-up, and the statement count
        times = []
        for _ in range(repeat):
            clock = time.perf_counter()
            call()
            times.append((time.perf_counter() - clock) * 1000)
        times.sort()
        results[name] = {
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(math.ceil(0.95 * len(times)) - 1, 0)], 2),
            "statements": len(queries), "rows": len(rows),
        }
    return results


if __name__ == "__main__":
    main()
