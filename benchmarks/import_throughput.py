"""End-to-end import throughput: generate an N-row statement, stage it, commit it; print one JSON object.

    python benchmarks/import_throughput.py [--rows 200000] [--format xlsx|csv]

DATABASE_URL picks the database (default: SQLite under COFFER_VAR_DIR). On PostgreSQL it also
times a plain COPY of the same rows into ledger_transaction (rolled back) for comparison.
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffer.settings")

HEADER = ["Booking date", "Description", "Reference", "Amount", "Balance"]
SHOPS = ["Coffee Corner", "Groceries Market", "Fuel Station 24", "Bookshop", "Pharmacy", "Rail ticket", "Bakery"]


def statement_rows(count: int):
    balance = Decimal("1000.00")
    start = dt.date(2015, 1, 1)
    for i in range(count):
        amount = Decimal("2500.00") if i % 30 == 0 else -Decimal(3 + (i * 37) % 9000) / 100
        balance += amount
        yield [start + dt.timedelta(days=i // 60), f"{SHOPS[i % len(SHOPS)]} {i % 97}", f"R{i:08d}", amount, balance]


def write_file(path: Path, count: int, fmt: str) -> None:
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(HEADER)
            for row in statement_rows(count):
                writer.writerow([row[0].isoformat(), row[1], row[2], f"{row[3]:.2f}", f"{row[4]:.2f}"])
        return
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Transactions")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER)
    for n, row in enumerate(statement_rows(count), start=1):
        sheet.write_datetime(n, 0, dt.datetime.combine(row[0], dt.time()), date_format)
        sheet.write_string(n, 1, row[1])
        sheet.write_string(n, 2, row[2])
        sheet.write_number(n, 3, float(row[3]))
        sheet.write_number(n, 4, float(row[4]))
    book.close()


def copy_rate(count: int) -> float:
    """Rows per second of a plain COPY of the same rows into ledger_transaction, indexes and foreign-key
    checks included (Django's foreign keys are deferred to COMMIT; they are made immediate here so the
    COPY pays them as a committed COPY would), then rolled back."""
    from django.db import connection, transaction

    from coffer.ledger.models import Account

    account = Account.objects.order_by("-created_at").first()
    columns = "id, tenant_id, account_id, booked_on, amount, description, counterparty, reference, note, fingerprint, created_at, updated_at"
    now = dt.datetime.now(dt.timezone.utc)
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with cursor.cursor.copy(f"COPY ledger_transaction ({columns}) FROM STDIN") as copy:
                for n, row in enumerate(statement_rows(count)):
                    copy.write_row([uuid.uuid4(), account.tenant_id, account.pk, row[0], row[3], row[1], "", row[2],
                                    "", f"copy-{n}", now, now])
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return count / elapsed


class _Rollback(Exception):
    pass


class PhaseLog(logging.Handler):
    """Keeps the `seconds_by_phase` the staging job and the commit log, by logger name."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.phases: dict[str, dict[str, float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        phases = getattr(record, "seconds_by_phase", None)
        if phases is not None:
            self.phases["stage" if record.name.endswith("staging") else "commit"] = phases


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from coffer.imports import jobs, services, staging
    from coffer.ledger import services as ledger_services
    from coffer.tenancy import services as tenancy_services

    settings.IMPORT_MAX_FILE_BYTES = max(settings.IMPORT_MAX_FILE_BYTES, 2 * 1024 * 1024 * 1024)
    call_command("migrate", verbosity=0)
    owner = tenancy_services.user_sign_up(email=f"bench-{uuid.uuid4().hex[:8]}@example.test",
                                          password="benchmark-password-123")
    tenant = tenancy_services.organization_create(actor=owner, name=f"Bench {uuid.uuid4().hex[:6]}")
    account = ledger_services.account_create(tenant=tenant, actor=owner, name="Bench", currency="EUR")

    phase_log = PhaseLog()
    for name in ("coffer.imports.staging", "coffer.imports.services"):
        logging.getLogger(name).addHandler(phase_log)
        logging.getLogger(name).setLevel(logging.INFO)
    stages: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"statement.{args.format}"
        started = time.perf_counter()
        write_file(path, args.rows, args.format)
        generate = time.perf_counter() - started

        clock = time.perf_counter()
        with path.open("rb") as content:
            batch = services.import_create(tenant=tenant, actor=owner, account_id=account.pk, file_name=path.name,
                                           content=content, enqueue=False)
        stages["upload"] = time.perf_counter() - clock
        clock = time.perf_counter()
        jobs.run_now(batch.pk)
        stages["read_validate_stage"] = time.perf_counter() - clock
        clock = time.perf_counter()
        batch = services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
        stages["commit"] = time.perf_counter() - clock
        shutil.rmtree(staging.file_path(batch).parent, ignore_errors=True)  # the stored upload

    seconds = sum(stages.values())
    result = {
        "rows": args.rows, "format": args.format, "database": connection.vendor, "status": batch.status,
        "rows_committed": batch.rows_committed, "seconds": round(seconds, 3),
        "seconds_by_stage": {key: round(value, 3) for key, value in stages.items()},
        "seconds_by_phase": phase_log.phases,
        "rows_per_second": round(args.rows / seconds) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "generate_seconds": round(generate, 3),
    }
    if connection.vendor == "postgresql":
        rate = copy_rate(args.rows)
        result["copy_rows_per_second"] = round(rate)
        result["ratio_to_copy"] = round((args.rows / seconds) / rate, 3) if seconds else None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
