"""The demo data of `make run` (`coffer seed_demo`)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum

from coffer import money
from coffer.audit.models import AuditEntry
from coffer.ledger.models import Account, Transaction
from coffer.ops import demo
from coffer.tenancy.models import Membership, Tenant, User

PEOPLE = {
    "demo@coffer.local": "owner",
    "admin@acme.example": "admin",
    "member@acme.example": "member",
    "viewer@acme.example": "viewer",
}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(), "tenants": Tenant.objects.count(), "memberships": Membership.objects.count(),
        "accounts": Account.objects.count(), "transactions": Transaction.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.fixture
def seeded(db):
    return seed()


def test_demo_people_have_every_role_in_acme(seeded):
    acme = Tenant.objects.get(slug="acme")
    assert acme.name == "Acme Ltd"
    assert acme.kind == Tenant.Kind.ORGANIZATION
    roles = dict(Membership.objects.filter(tenant=acme).values_list("user__email", "role"))
    assert roles == PEOPLE


def test_every_demo_person_signs_in_with_the_demo_password(seeded):
    for email in PEOPLE:
        person = User.objects.get(email=email)
        assert person.check_password("coffer-demo"), email
        assert not person.check_password("wrong-password"), email


def test_demo_password_comes_from_the_setting(db, settings):
    settings.DEMO_PASSWORD = "another-demo-password"
    output = seed()
    assert User.objects.get(email="demo@coffer.local").check_password("another-demo-password")
    assert "another-demo-password" in output


def test_demo_person_owns_a_personal_space_with_accounts(seeded):
    personal = Membership.objects.get(user__email="demo@coffer.local", tenant__kind=Tenant.Kind.PERSONAL)
    assert personal.role == "owner"
    assert Account.objects.filter(tenant=personal.tenant).count() >= 2
    assert Transaction.objects.filter(tenant=personal.tenant).exists()


def test_acme_has_the_four_accounts_in_two_currencies(seeded):
    accounts = {
        account.name: (account.type, account.currency)
        for account in Account.objects.filter(tenant__slug="acme")
    }
    assert accounts == {
        "Operating account": ("checking", "EUR"),
        "Savings": ("savings", "EUR"),
        "US dollar account": ("checking", "USD"),
        "Company card": ("credit_card", "EUR"),
    }


def test_about_two_thousand_transactions_over_the_eighteen_months_ending_today(seeded):
    today = dt.date.today()
    span = Transaction.objects.aggregate(first=Min("booked_on"), last=Max("booked_on"), total=Count("id"))
    assert 1500 <= span["total"] <= 2500
    assert Transaction.objects.filter(tenant__slug="acme").count() >= 1000
    assert span["last"] <= today
    assert (today - span["last"]).days <= 7
    assert 535 <= (today - span["first"]).days <= 552  # 18 months
    # every account of acme is used, and transactions belong to their account's tenant
    per_account = dict(Transaction.objects.filter(tenant__slug="acme").values_list("account__name").annotate(n=Count("id")))
    assert set(per_account) == {"Operating account", "Savings", "US dollar account", "Company card"}
    assert not Transaction.objects.exclude(tenant=F("account__tenant")).exists()


def test_demo_transactions_look_like_real_money(seeded):
    descriptions = set(Transaction.objects.values_list("description", flat=True))
    for expected in ("Salary", "Rent", "Groceries", "Electricity", "Transfer to Savings", "Invoice paid"):
        assert expected in descriptions, expected
    assert any(d.startswith("Company card statement") for d in descriptions)
    card = Account.objects.get(tenant__slug="acme", name="Company card")
    assert Transaction.objects.filter(account=card, amount__lt=0).count() > 100
    assert Transaction.objects.filter(account=card, amount__gt=0).count() >= 15  # monthly statements paid
    for amount in Transaction.objects.values_list("amount", flat=True)[:500]:
        assert amount == amount.quantize(Decimal("0.01")) and amount != 0


def test_every_balance_is_opening_plus_the_sum_of_its_transactions(seeded):
    accounts = Account.objects.annotate(total=Sum("transactions__amount"))
    assert accounts.count() == 7
    for account in accounts:
        # money.stored: SQLite sums decimals as floating point (87204.2699999999)
        assert account.balance == account.opening_balance + money.stored(account.total or Decimal("0")), account.name


def test_internal_transfers_in_one_currency_net_to_zero(seeded):
    transfers = Transaction.objects.filter(tenant__slug="acme", description__startswith="Transfer ")
    assert transfers.count() >= 30
    assert transfers.aggregate(total=Sum("amount"))["total"] == 0


def test_seeding_writes_one_demo_seed_audit_entry_per_tenant(seeded):
    entries = AuditEntry.objects.filter(action="demo.seed")
    assert sorted(entry.tenant.kind for entry in entries) == ["organization", "personal"]
    acme_entry = entries.get(tenant__slug="acme")
    assert acme_entry.changes["accounts"] == [None, 4]
    assert acme_entry.changes["transactions"] == [None, Transaction.objects.filter(tenant__slug="acme").count()]


def test_a_second_seed_adds_nothing_and_says_so(seeded):
    before = counts()
    balances = dict(Account.objects.values_list("id", "balance"))
    output = seed()
    assert counts() == before
    assert dict(Account.objects.values_list("id", "balance")) == balances
    assert "already present" in output
    assert "demo@coffer.local" in output


def test_seed_prints_the_sign_in(seeded):
    assert "Demo data loaded" in seeded
    assert "http://127.0.0.1:8000/" in seeded
    assert "/api/docs" in seeded
    for email in PEOPLE:
        assert email in seeded
    assert "coffer-demo" in seeded


def test_seed_prints_the_given_url(db):
    output = seed(url="http://127.0.0.1:8765")
    assert "http://127.0.0.1:8765/api/docs" in output


class _RolledBack(Exception):
    pass


def test_demo_data_is_the_same_for_the_same_day(db):
    day = dt.date(2025, 6, 30)
    runs = []
    for _ in range(2):
        try:
            with transaction.atomic():  # each run rolled back, so the second starts from nothing again
                demo.demo_seed(password="coffer-demo", today=day)
                runs.append(list(
                    Transaction.objects.order_by("account__tenant__kind", "account__name", "booked_on", "amount",
                                                 "description")
                    .values_list("account__tenant__kind", "account__name", "booked_on", "amount", "description")
                ))
                raise _RolledBack
        except _RolledBack:
            pass
    assert not User.objects.exists()
    assert len(runs[0]) > 1500
    assert runs[0] == runs[1]
    assert max(row[2] for row in runs[0]) <= day


def test_an_empty_demo_password_is_refused_and_nothing_is_created(db, settings):
    settings.DEMO_PASSWORD = ""
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        seed()
    assert counts()["users"] == 0


def test_smoke_script_passes_against_the_served_demo(live_server_url, settings):
    """What CI does after `make run`: tests/smoke_demo.py against a real server with the demo data."""
    import subprocess
    import sys
    from pathlib import Path

    seed()
    script = Path(__file__).resolve().parent / "smoke_demo.py"
    result = subprocess.run(
        [sys.executable, str(script), live_server_url], capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "DEMO_PASSWORD": settings.DEMO_PASSWORD},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok  acme transactions: a page of 100 with a next cursor" in result.stdout


def test_smoke_script_fails_clearly_when_nothing_is_served():
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nothing listens once the probe closes
    script = Path(__file__).resolve().parent / "smoke_demo.py"
    result = subprocess.run([sys.executable, str(script), f"http://127.0.0.1:{port}"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "SMOKE FAILED: GET /healthz: cannot reach" in result.stderr


def test_the_demo_history_is_mostly_categorized_and_its_transfers_are_linked(seeded):
    from coffer.ledger.models import CategorySource

    acme = Transaction.objects.filter(tenant__slug="acme")
    categorized = acme.filter(category__isnull=False)
    assert categorized.count() > 0.6 * acme.count()
    assert set(categorized.values_list("category_source", flat=True)) == {CategorySource.MANUAL}
    assert categorized.filter(category__tenant__slug="acme").count() == categorized.count()
    assert acme.filter(description__startswith="Transfer to", transfer_pair__isnull=False).exists()
    assert acme.filter(category__name="Salary", amount__lt=0).count() == 0
