"""The load test's seeding (loadtest/seed.py), its run script's helpers and the locustfile."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count, F, Max, Min, Sum

from coffer import money
from coffer.api.models import ApiToken
from coffer.ledger.models import Account, Category, Transaction
from coffer.tenancy.models import Membership, Tenant, User

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from loadtest import run as loadtest_run  # noqa: E402
from loadtest import seed as loadtest_seed  # noqa: E402

TODAY = dt.date(2026, 6, 30)


@pytest.fixture
def seeded(transactional_db):
    return loadtest_seed.seed(tenants=3, transactions=101, users=7, password="load-test-pass", today=TODAY)


def test_seed_makes_the_requested_tenants_and_transactions(seeded):
    orgs = Tenant.objects.filter(slug__startswith="lt-").order_by("slug")
    assert [t.slug for t in orgs] == ["lt-000", "lt-001", "lt-002"]
    assert seeded.tenants == 3 and seeded.transactions == 101
    per_tenant = dict(Transaction.objects.values_list("tenant__slug").annotate(n=Count("id")))
    assert per_tenant == {"lt-000": 34, "lt-001": 34, "lt-002": 33}
    # Every row is in an account of its own tenant, within three years up to `today`.
    assert not Transaction.objects.exclude(account__tenant=F("tenant")).exists()
    span = Transaction.objects.aggregate(first=Min("booked_on"), last=Max("booked_on"))
    assert TODAY - dt.timedelta(days=loadtest_seed.HISTORY_DAYS) < span["first"] <= span["last"] <= TODAY
    # Categories, where set, are the row's tenant's own; some rows are left uncategorized.
    assert not Transaction.objects.filter(category__isnull=False).exclude(category__tenant=F("tenant")).exists()
    assert Category.objects.filter(tenant__slug="lt-000").exists()


def test_seeded_balances_are_opening_plus_the_rows(seeded):
    for account in Account.objects.filter(tenant__slug__startswith="lt-"):
        total = Transaction.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
        assert account.balance == account.opening_balance + money.stored(total)
    assert Account.objects.filter(tenant__slug="lt-001").count() == len(loadtest_seed.ACCOUNTS)


def test_seeded_people_belong_to_one_tenant_each_and_can_sign_in(seeded):
    assert len(seeded.logins) == 7
    assert [login.tenant for login in seeded.logins] == ["lt-000", "lt-001", "lt-002", "lt-000", "lt-001", "lt-002",
                                                         "lt-000"]
    assert [login.role for login in seeded.logins][:4] == ["owner", "owner", "owner", "member"]
    for login in seeded.logins:
        person = User.objects.get(email=login.email)
        assert person.check_password("load-test-pass")
        assert list(Membership.objects.filter(user=person).values_list("tenant__slug", flat=True)) == [login.tenant]
        assert set(login.accounts) == {str(pk) for pk in Account.objects.filter(tenant__slug=login.tenant)
                                       .values_list("pk", flat=True)}
    assert ApiToken.objects.filter(name="load test", scope="read-write").count() == 7


def test_a_seeded_token_reads_its_own_tenant_and_no_other(seeded, client_api):
    login = seeded.logins[1]
    headers = {"Authorization": f"Bearer {login.token}"}
    own = client_api.get(f"/api/v1/tenants/{login.tenant}/transactions?limit=100", headers=headers)
    assert own.status_code == 200
    assert len(own.json()["items"]) == 34
    other = client_api.get("/api/v1/tenants/lt-000/transactions", headers=headers)
    assert other.status_code == 404


@pytest.mark.parametrize("kwargs", [
    {"tenants": 0, "transactions": 10, "users": 1, "password": "x"},
    {"tenants": 1, "transactions": -1, "users": 1, "password": "x"},
    {"tenants": 1, "transactions": 10, "users": 1, "password": ""},
])
def test_seed_refuses_bad_sizes_and_writes_nothing(db, kwargs):
    with pytest.raises(ValueError):
        loadtest_seed.seed(**kwargs)
    assert not User.objects.filter(email__endswith="@loadtest.example").exists()
    assert not Tenant.objects.filter(slug__startswith="lt-").exists()


def test_the_run_refuses_to_drop_a_database_not_named_for_the_load_test():
    with pytest.raises(SystemExit, match="must contain 'loadtest'"):
        loadtest_run.database_name("postgres://postgres@127.0.0.1:5432/coffer")
    assert loadtest_run.database_name("postgres://postgres@127.0.0.1:5432/coffer_loadtest") == "coffer_loadtest"


def test_cache_hit_rate_counts_the_run_only():
    before = {"hit": 10.0, "miss": 5.0}
    after = {"hit": 40.0, "miss": 15.0, "bypass": 2.0}
    assert loadtest_run.cache_report(before, after) == {"bypass": 2, "hit": 30, "miss": 10, "hit_rate": 0.75}
    assert loadtest_run.cache_report({}, {})["hit_rate"] is None


def test_the_report_reads_locust_statistics(tmp_path):
    header = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
              "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
              "99.99%,100%\n")
    (tmp_path / "locust_stats.csv").write_text(
        header
        + "GET,web: dashboard,100,2,20,25.5,3,300,1000,5.0,0.1,20,22,24,26,30,45,60,90,280,300,300\n"
        + ",Aggregated,100,2,20,25.5,3,300,1000,5.0,0.1,20,22,24,26,30,45,60,90,280,300,300\n"
    )
    endpoints, total = loadtest_run.read_stats(tmp_path / "locust")
    assert endpoints == [{"type": "GET", "name": "web: dashboard", "requests": 100, "failures": 2, "rps": 5.0,
                          "p50_ms": 20.0, "p95_ms": 45.0, "p99_ms": 90.0, "max_ms": 300.0, "avg_ms": 25.5}]
    assert total["requests"] == 100
    verdict = loadtest_run.verdicts(total, total["failures"], [{"role": "web worker", "max_mb": 150.0}])
    assert verdict["p95"]["met"] and verdict["p99"]["met"] and verdict["web_worker_rss"]["met"]
    assert not verdict["errors"]["met"]


def test_the_locustfile_imports_and_defines_the_user():
    # In a child process: importing locust patches the standard library with gevent.
    result = subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "loadtest" / "locustfile.py"),
                             "--list"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "CofferUser" in result.stdout


def test_the_report_reads_the_servers_access_log_from_the_steady_state_on(tmp_path):
    log = tmp_path / "server.log"
    line = ('{{"time": "{time}", "logger": "coffer.access", "method": "GET", "route": "/t/<slug:tenant_slug>/", '
            '"duration_ms": {ms}, "sql_statements": {sql}, "sql_ms": 4.0}}\n')
    log.write_text(
        line.format(time="2026-12-01T10:00:00.000+00:00", ms=900.0, sql=50)  # during the sign-ins: left out
        + '{"time": "2026-12-01T10:00:30.000+00:00", "logger": "uvicorn.error", "message": "not a request"}\n'
        + line.format(time="2026-12-01T10:01:00.000+00:00", ms=10.0, sql=7)
        + line.format(time="2026-12-01T10:01:01.000+00:00", ms=30.0, sql=9)
    )
    since = dt.datetime(2026, 12, 1, 10, 0, 30, tzinfo=dt.timezone.utc).timestamp()
    assert loadtest_run.server_side(log, since=since) == [{
        "method": "GET", "route": "/t/<slug:tenant_slug>/", "requests": 2, "p50_ms": 30.0, "p95_ms": 30.0,
        "sql_statements": 8.0, "sql_ms": 4.0,
    }]
