"""The optional read replica: settings add the alias, aggregates and reports read from it.

The suite runs without DATABASE_REPLICA_URL, so `replica_alias` adds the alias the way settings.py does
with DATABASE_REPLICA_URL set: a second connection to the test database (a test mirror of default).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from coffer.insights import reports
from coffer.insights import selectors as insights_selectors
from coffer.ops import replica
from tests import factories

TODAY = dt.date(2026, 3, 10)


@pytest.fixture(scope="module", autouse=True)
def replica_alias():
    """Module-scoped so it exists before pytest-django checks each test's `databases`."""
    databases = connections.settings  # the same dict as settings.DATABASES
    databases[replica.REPLICA] = {**databases["default"], "TEST": {"MIRROR": "default"}}
    yield
    connections[replica.REPLICA].close()
    if hasattr(connections[replica.REPLICA], "close_pool"):  # PostgreSQL: its pool would keep the test database open
        connections[replica.REPLICA].close_pool()
    del connections[replica.REPLICA]
    del databases[replica.REPLICA]


def _ledger(owner):
    tenant = factories.organization(owner, slug="replica-co")
    account = factories.account(tenant, currency="EUR")
    for day, amount in ((2, "-40.00"), (5, "1000.00"), (20, "-12.50")):
        factories.transaction(account, amount=amount, booked_on=TODAY.replace(day=day))
    return tenant


@pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA])
def test_reports_and_dashboard_aggregates_read_from_the_replica(alice):
    tenant = _ledger(alice)
    assert replica.read_alias() == replica.REPLICA
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections[replica.REPLICA]) as secondary:
        flow = insights_selectors.monthly_cashflow.uncached(tenant=tenant, months=1, today=TODAY)
        report = reports.cashflow.uncached(tenant=tenant, date_from=TODAY.replace(day=1), date_to=TODAY.replace(day=31))
        worth = reports.net_worth.uncached(tenant=tenant, date_from=TODAY.replace(day=1), date_to=TODAY.replace(day=31))
    assert flow["EUR"][0].income == 1000 and flow["EUR"][0].expenses == Decimal("52.50")  # the committed rows, read back
    assert report.total("EUR").net == Decimal("947.50")
    assert worth.by_currency["EUR"][-1].balance == Decimal("947.50")
    assert not [q for q in primary.captured_queries if "ledger_transaction" in q["sql"]]
    assert len([q for q in secondary.captured_queries if "ledger_transaction" in q["sql"]]) >= 4


@pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA])
def test_inside_a_transaction_on_the_primary_aggregates_read_the_primary(alice):
    tenant = _ledger(alice)
    with transaction.atomic():
        factories.transaction(tenant.accounts.get(), amount="-7.50", booked_on=TODAY)
        assert replica.read_alias() == "default"
        with CaptureQueriesContext(connections[replica.REPLICA]) as secondary:
            flow = insights_selectors.monthly_cashflow.uncached(tenant=tenant, months=1, today=TODAY)
        assert flow["EUR"][0].expenses == Decimal("60.00")  # its own uncommitted write
        assert secondary.captured_queries == []


def test_without_a_replica_everything_reads_the_default_database():
    configured = connections.settings.pop(replica.REPLICA)
    try:
        assert replica.read_alias() == "default"
    finally:
        connections.settings[replica.REPLICA] = configured


def test_database_replica_url_adds_a_mirrored_replica_alias(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE", "COFFER_ENV"}}
    env.update(COFFER_VAR_DIR=str(tmp_path), DATABASE_URL="postgres://app@primary.internal:5432/coffer",
               DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/coffer")
    script = ("import json; from coffer import settings as s; "
              "print(json.dumps({k: {f: v.get(f) for f in ('ENGINE', 'HOST', 'USER', 'TEST')} "
              "for k, v in s.DATABASES.items()}))")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    databases = json.loads(result.stdout.strip().splitlines()[-1])
    assert databases["replica"] == {"ENGINE": "django.db.backends.postgresql", "HOST": "replica.internal",
                                    "USER": "reader", "TEST": {"MIRROR": "default"}}
    assert databases["default"]["HOST"] == "primary.internal"

    env.pop("DATABASE_REPLICA_URL")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert list(json.loads(result.stdout.strip().splitlines()[-1])) == ["default"]
    assert settings.DATABASES is connections.settings
