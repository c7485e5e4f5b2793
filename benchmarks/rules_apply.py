"""Categorization rules and suggestions over a large ledger; print one JSON object.

    python benchmarks/rules_apply.py [--rows 100000] [--rules 50]

Makes one organization with an account of N uncategorized transactions (shop names with numbers,
a tenth of them categorized by hand) and R rules (contains, starts with, equals and regex on the
description, amount ranges and signs, a fifth of them adding a tag), then times the preview, the
apply (with the SQL statements each ran, which depend on the rules, not the rows), a second preview
(nothing left to change) and one page of 100 suggestions. DATABASE_URL picks the database
(default: SQLite under COFFER_VAR_DIR). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffer.settings")

SHOPS = ["REWE MARKT", "Netflix.com", "SHELL STATION", "Deutsche Bahn", "Apotheke am Markt", "Amazon Mktp DE",
         "Cafe Central", "Stadtwerke", "Spotify AB", "Kino Palast"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from coffer.ledger import rule_selectors, rule_services
    from coffer.ledger import services as ledger_services
    from coffer.ledger.models import Account, Category, Transaction
    from coffer.tenancy import services as tenancy_services

    call_command("migrate", verbosity=0)
    owner = tenancy_services.user_sign_up(email=f"bench-{uuid.uuid4().hex[:8]}@example.test",
                                          password="benchmark-password-123")
    tenant = tenancy_services.organization_create(actor=owner, name=f"Bench {uuid.uuid4().hex[:6]}")
    account = Account.objects.create(tenant=tenant, name="Checking", currency="EUR")
    expense = list(Category.objects.filter(tenant=tenant, kind="expense", parent__isnull=False)
                   .values_list("pk", flat=True))

    started = time.perf_counter()
    rows = []
    for i in range(args.rows):
        manual = i % 10 == 0
        rows.append(Transaction(
            tenant=tenant, account=account, booked_on=dt.date(2020, 1, 1) + dt.timedelta(days=i % 1800),
            amount=-Decimal(3 + (i * 37) % 9000) / 100 if i % 30 else Decimal("2500.00"),
            description=f"{SHOPS[i % len(SHOPS)]} {i % 997} FILIALE {i % 13}", counterparty=SHOPS[i % len(SHOPS)],
            category_id=expense[i % len(expense)] if manual else None, category_source="manual" if manual else "",
        ))
        if len(rows) >= 5000:
            Transaction.objects.bulk_create(rows)
            rows = []
    Transaction.objects.bulk_create(rows)
    ledger_services.tag_create(tenant=tenant, actor=owner, name="bench")
    for index in range(args.rules):
        shop = SHOPS[index % len(SHOPS)].split()[0]
        kind = index % 4
        conditions = {
            0: {"description": {"operator": "contains", "value": f"{shop} {index}"}},
            1: {"description": {"operator": "starts_with", "value": shop}, "amount": {"min": "-50", "max": "-10"}},
            2: {"description": {"operator": "regex", "value": rf"^{shop}\b.*filiale {index % 13}$"}},
            3: {"counterparty": {"operator": "equals", "value": SHOPS[index % len(SHOPS)]}, "amount": {"sign": "negative"}},
        }[kind]
        actions = {"category_id": expense[index % len(expense)]}
        if index % 5 == 0:
            actions["tags"] = ["bench"]
        rule_services.rule_create(tenant=tenant, actor=owner, name=f"Rule {index}", conditions=conditions,
                                  actions=actions)
    generate = time.perf_counter() - started

    timings: dict[str, dict] = {}

    def timed(name, call):
        with CaptureQueriesContext(connection) as queries:
            clock = time.perf_counter()
            value = call()
            timings[name] = {"seconds": round(time.perf_counter() - clock, 3), "queries": len(queries)}
        return value

    preview = timed("preview", lambda: rule_selectors.rule_preview(tenant=tenant))
    changed = timed("apply", lambda: rule_services.rule_apply(tenant=tenant, actor=owner))
    again = timed("preview_after", lambda: rule_selectors.rule_preview(tenant=tenant))
    page, _ = timed("suggestions_page_100", lambda: rule_selectors.suggestion_page(tenant=tenant, limit=100))
    print(json.dumps({
        "rows": Transaction.objects.filter(tenant=tenant).count(), "rules": args.rules, "database": connection.vendor,
        "would_change": preview.count, "changed": changed, "left_after": again.count,
        "suggested": sum(1 for item in page if item.suggestion is not None),
        "generate_seconds": round(generate, 3), "timings": timings,
    }))


if __name__ == "__main__":
    main()
