"""Reports, budget alerts and transfer detection over a large ledger; print one JSON object.

    python benchmarks/reports_and_transfers.py [--rows 100000]

Makes one organization with two EUR accounts and a USD account, N categorized transactions over
five years (one in fifty a transfer between the EUR accounts, both sides), a rate per month and
a budget per expense category; then times `transfers.detect`, each report (five years, converted)
and `budget_alerts`, with the number of SQL statements each ran. DATABASE_URL picks the database
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

START = dt.date(2020, 1, 1)
DAYS = 5 * 365


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from coffer.insights import reports
    from coffer.ledger import budgets, transfers
    from coffer.ledger.models import Account, Budget, Category, ExchangeRate, Transaction
    from coffer.tenancy import services as tenancy_services

    call_command("migrate", verbosity=0)
    owner = tenancy_services.user_sign_up(email=f"bench-{uuid.uuid4().hex[:8]}@example.test",
                                          password="benchmark-password-123")
    tenant = tenancy_services.organization_create(actor=owner, name=f"Bench {uuid.uuid4().hex[:6]}")
    checking = Account.objects.create(tenant=tenant, name="Checking", currency="EUR")
    savings = Account.objects.create(tenant=tenant, name="Savings", currency="EUR")
    dollars = Account.objects.create(tenant=tenant, name="Dollars", currency="USD")
    expense = list(Category.objects.filter(tenant=tenant, kind="expense").values_list("pk", flat=True))
    income = list(Category.objects.filter(tenant=tenant, kind="income").values_list("pk", flat=True))

    started = time.perf_counter()
    rows, pairs = [], 0
    for i in range(args.rows):
        day = START + dt.timedelta(days=i * DAYS // max(args.rows, 1))
        if i % 50 == 0:  # a transfer: two rows
            amount = Decimal(100 + i % 997)
            rows.append(Transaction(tenant=tenant, account=checking, booked_on=day, amount=-amount, description="To savings"))
            rows.append(Transaction(tenant=tenant, account=savings, booked_on=day + dt.timedelta(days=1), amount=amount))
            pairs += 1
            continue
        account = dollars if i % 7 == 0 else checking
        if i % 40 == 1:
            rows.append(Transaction(tenant=tenant, account=account, booked_on=day, amount=Decimal("2500.00"),
                                    category_id=income[i % len(income)]))
        else:
            rows.append(Transaction(tenant=tenant, account=account, booked_on=day,
                                    amount=-Decimal(3 + (i * 37) % 9000) / 100, category_id=expense[i % len(expense)]))
        if len(rows) >= 5000:
            Transaction.objects.bulk_create(rows)
            rows = []
    Transaction.objects.bulk_create(rows)
    ExchangeRate.objects.bulk_create(
        ExchangeRate(tenant=tenant, date=dt.date(2020 + m // 12, m % 12 + 1, 1), from_currency="USD",
                     to_currency="EUR", rate=Decimal("0.9")) for m in range(60))
    Budget.objects.bulk_create(
        Budget(tenant=tenant, category_id=pk, amount=Decimal("300"), currency="EUR", rollover=True, starts_on=START)
        for pk in Category.objects.filter(tenant=tenant, kind="expense", parent__isnull=True).values_list("pk", flat=True))
    generate = time.perf_counter() - started

    end = START + dt.timedelta(days=DAYS)
    timings: dict[str, dict] = {}

    def timed(name, call):
        with CaptureQueriesContext(connection) as queries:
            clock = time.perf_counter()
            value = call()
            timings[name] = {"seconds": round(time.perf_counter() - clock, 3), "queries": len(queries)}
        return value

    linked = timed("transfers_detect", lambda: transfers.detect(tenant))
    timed("cashflow_5y_converted", lambda: reports.cashflow(tenant=tenant, date_from=START, date_to=end, convert=True))
    timed("by_category_5y_converted", lambda: reports.by_category(tenant=tenant, date_from=START, date_to=end, convert=True))
    timed("net_worth_5y_converted", lambda: reports.net_worth(tenant=tenant, date_from=START, date_to=end, convert=True))
    alerts = timed("budget_alerts", lambda: budgets.budget_alerts(tenant, end))
    print(json.dumps({
        "rows": Transaction.objects.filter(tenant=tenant).count(), "database": connection.vendor,
        "transfer_pairs": pairs, "linked": linked, "budgets": Budget.objects.filter(tenant=tenant).count(),
        "alerts": len(alerts), "generate_seconds": round(generate, 3), "timings": timings,
    }))


if __name__ == "__main__":
    main()
