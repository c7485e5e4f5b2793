"""A production-like dataset for the load test: organizations, people who sign in, tokens, accounts
and a large ledger, written in bulk.

`seed(tenants=50, transactions=1_000_000, users=1000, password=...)` makes `tenants` organizations
(each with the default categories and rules, through the real service), `users` people spread
round-robin over them (the first of each tenant its owner, the others members), one read-write
personal access token per person, four accounts per tenant, and `transactions` rows spread evenly
over the tenants and over three years up to `today`. On PostgreSQL the rows go in with one COPY
(foreign-key triggers off for that statement only: the rows are generated consistent), then every
balance is set from one aggregate and the tables are analyzed; elsewhere (SQLite, in tests) with
`bulk_create`. Deterministic for a given `rng_seed`, except ids and token secrets.

Needs Django set up (DJANGO_SETTINGS_MODULE) and a migrated, empty database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from coffer import secrets
from coffer.api import services as api_services
from coffer.api.models import ApiToken
from coffer.ids import new_id
from coffer.ledger.models import Account, Category, CategorySource, Transaction
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Membership, Tenant, User
from coffer.tenancy.roles import Role

EMAIL = "loadtest-{:05d}@loadtest.example"
SLUG = "lt-{:03d}"
HISTORY_DAYS = 3 * 365
COPY_COLUMNS = ("id", "tenant_id", "account_id", "booked_on", "value_on", "amount", "description", "counterparty",
                "reference", "note", "category_id", "category_source", "created_by_id", "created_at", "updated_at")

# (name, type, currency, opening balance, share of the tenant's rows)
ACCOUNTS = [
    ("Operating account", Account.Type.CHECKING, "EUR", "25000.00", 0.50),
    ("Company card", Account.Type.CREDIT_CARD, "EUR", "0.00", 0.30),
    ("US dollar account", Account.Type.CHECKING, "USD", "30000.00", 0.15),
    ("Savings", Account.Type.SAVINGS, "EUR", "50000.00", 0.05),
]
# (description, counterparties, category name of the default tree, low, high in whole units; negative: out)
KINDS = [
    ("Card purchase", ("Café Central", "Bistro 21", "Restaurant Milano"), "Restaurants", -60, -4),
    ("Groceries", ("Lidl", "Albert Heijn", "Carrefour", "Rewe", "Aldi"), "Groceries", -180, -8),
    ("Taxi", ("Uber", "Bolt", "City Taxi"), "Public transport", -60, -9),
    ("Train tickets", ("Rail", "Eurostar"), "Public transport", -180, -12),
    ("Fuel", ("Shell", "BP", "Total"), "Fuel", -95, -35),
    ("Software", ("Atlassian", "GitHub", "Figma", "Slack"), "Software", -400, -10),
    ("Office supplies", ("Staples", "Viking"), "Household", -400, -15),
    ("Hardware", ("Dell", "Apple", "Lenovo"), "Electronics", -2400, -150),
    ("Hotel", ("Hotel Europa", "Ibis", "NH Hotels"), "Travel", -420, -80),
    ("Electricity", ("City Power",), "Utilities", -420, -120),
    ("Internet", ("FiberNet Business",), "Phone & internet", -120, -60),
    ("Account fees", ("Bank",), "Account fees", -30, -2),
    ("VAT payment", ("Tax office",), "Taxes", -9000, -3000),
    ("Office rent", ("Harbour Offices",), "Rent / mortgage", -3400, -3000),
    ("Invoice paid", ("Globex", "Initech", "Umbrella Corp", "Hooli", "Soylent"), "Other income", 900, 6000),
    ("Interest", ("Bank",), "Interest", 1, 60),
    ("Freelance design", ("Studio Nord", "Pixel & Co"), None, -3200, -600),  # left for rules and suggestions
]
UNCATEGORIZED_SHARE = 0.15


@dataclasses.dataclass(frozen=True)
class Login:
    email: str
    tenant: str  # slug
    role: str
    token: str  # personal access token (read-write, this tenant)
    accounts: list[str]  # ids of the tenant's accounts


@dataclasses.dataclass(frozen=True)
class SeedResult:
    tenants: int
    transactions: int
    logins: list[Login]


def seed(*, tenants: int, transactions: int, users: int, password: str, today: dt.date | None = None,
         rng_seed: int = 7) -> SeedResult:
    if tenants < 1:
        raise ValueError("At least one tenant")
    if transactions < 0:
        raise ValueError("The number of transactions cannot be negative")
    if not password:
        raise ValueError("The password must not be empty")
    users = max(users, tenants)  # every tenant has an owner
    today = today or dt.date.today()
    rng = random.Random(rng_seed)
    people = _people(users, password=password)
    orgs = [tenancy_services.organization_create(actor=people[t], name=f"Load test {t:03d}", slug=SLUG.format(t))
            for t in range(tenants)]
    Membership.objects.bulk_create([
        Membership(tenant=orgs[i % tenants], user=person, role=Role.MEMBER)
        for i, person in enumerate(people) if i >= tenants
    ])
    accounts = {org.pk: _accounts(org) for org in orgs}
    tokens = _tokens(people, orgs)
    written = 0
    for t, org in enumerate(orgs):
        count = transactions // tenants + (1 if t < transactions % tenants else 0)
        written += _ledger(org, accounts[org.pk], count=count, actor=people[t], rng=rng, today=today)
    _balances(orgs)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    logins = [
        Login(email=person.email, tenant=orgs[i % tenants].slug, role=Role.OWNER if i < tenants else Role.MEMBER,
              token=tokens[i], accounts=[str(a.pk) for a in accounts[orgs[i % tenants].pk]])
        for i, person in enumerate(people)
    ]
    return SeedResult(tenants=tenants, transactions=written, logins=logins)


def _people(count: int, *, password: str) -> list[User]:
    """One password hash for everyone: hashing it per person would cost seconds each at 1,000 people."""
    hashed = make_password(password)
    now = timezone.now()
    people = [User(email=EMAIL.format(i), name=f"Load tester {i}", password=hashed, date_joined=now,
                   email_confirmed_at=now) for i in range(count)]
    return User.objects.bulk_create(people, batch_size=1000)


def _accounts(tenant: Tenant) -> list[Account]:
    return Account.objects.bulk_create([
        Account(tenant=tenant, name=name, type=type_, currency=currency, opening_balance=Decimal(opening),
                balance=Decimal(opening), institution="Load Bank")
        for name, type_, currency, opening, _ in ACCOUNTS
    ])


def _tokens(people: list[User], orgs: list[Tenant]) -> list[str]:
    raws = [secrets.secret_new(api_services.API_TOKEN_PREFIX) for _ in people]
    now = timezone.now()
    ApiToken.objects.bulk_create([
        ApiToken(user=person, tenant=orgs[i % len(orgs)], name="load test", scope=ApiToken.Scope.READ_WRITE,
                 prefix=raw[:api_services.DISPLAY_PREFIX_LENGTH], token_hash=secrets.secret_hash(raw), created_at=now)
        for i, (person, raw) in enumerate(zip(people, raws))
    ], batch_size=1000)
    return raws


def _rows(tenant: Tenant, accounts: list[Account], *, categories: dict[str, object], count: int, actor: User,
          rng: random.Random, today: dt.date):
    """Tuples in COPY_COLUMNS order, oldest first. Runs no query: it is consumed inside the COPY."""
    weights = [share for *_, share in ACCOUNTS]
    start = today - dt.timedelta(days=HISTORY_DAYS - 1)
    now = timezone.now()
    for n in range(count):
        account = rng.choices(accounts, weights)[0]
        description, counterparties, category, low, high = rng.choice(KINDS)
        day = start + dt.timedelta(days=n * HISTORY_DAYS // count)
        amount = Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)
        category_id = categories.get(category) if category and rng.random() >= UNCATEGORIZED_SHARE else None
        yield (new_id(), tenant.pk, account.pk, day, day, amount, description, rng.choice(counterparties),
               f"LT-{n:07d}", "", category_id, CategorySource.MANUAL if category_id else "", actor.pk, now, now)


def _ledger(tenant: Tenant, accounts: list[Account], *, count: int, actor: User, rng: random.Random,
            today: dt.date) -> int:
    categories = dict(Category.objects.filter(tenant=tenant, archived_at__isnull=True).values_list("name", "id"))
    rows = _rows(tenant, accounts, categories=categories, count=count, actor=actor, rng=rng, today=today)
    if connection.vendor != "postgresql":
        written = Transaction.objects.bulk_create(
            (Transaction(**dict(zip(COPY_COLUMNS, row))) for row in rows), batch_size=2000
        )
        return len(written)
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Foreign-key triggers off for this transaction only; the rows point at rows made just above.
        cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.cursor.copy(f"COPY ledger_transaction ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


def _balances(orgs: list[Tenant]) -> None:
    """balance = opening + sum of the account's rows, for every account, in one statement."""
    total = (Transaction.objects.filter(account=OuterRef("pk")).order_by().values("account")
             .annotate(total=Sum("amount")).values("total"))
    zero = Value(Decimal("0"), output_field=DecimalField())
    Account.objects.filter(tenant__in=orgs).update(
        balance=F("opening_balance") + Coalesce(Subquery(total, output_field=DecimalField()), zero)
    )

