"""Demo data for `make run`: people of every role, an organization and ~2,000 transactions.

Deterministic (a seeded random generator, dates relative to `today`) and idempotent: when
demo@coffer.local exists nothing is added. Transactions are bulk-inserted in one database
transaction and each balance is then set from one aggregate, which is far faster than
~2,000 calls to the ledger service and ends in the same state (balance = opening + sum).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from coffer.audit import services as audit_services
from coffer import money
from coffer.ledger import transfers as ledger_transfers
from coffer.ledger.models import Account, Category, CategorySource, Transaction
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Membership, Tenant, User
from coffer.tenancy.roles import Role

DEMO_EMAIL = "demo@coffer.local"
ORGANIZATION_SLUG = "acme"
ORGANIZATION_NAME = "Acme Ltd"
# email -> (role in Acme, name)
PEOPLE = {
    DEMO_EMAIL: (Role.OWNER, "Dana Demo"),
    "admin@acme.example": (Role.ADMIN, "Ada Admin"),
    "member@acme.example": (Role.MEMBER, "Max Member"),
    "viewer@acme.example": (Role.VIEWER, "Vic Viewer"),
}
MONTHS = 18
SEED = 2024


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    created: bool
    people: dict[str, str]  # email -> role in the organization
    organization_slug: str
    accounts: int
    transactions: int


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, min(day.day, 28))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount between `low` and `high` whole units, with cents; no floats."""
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


class _Book:
    """Collects unsaved transactions and what each card spent per month (for the settlements)."""

    def __init__(self, *, tenant: Tenant, actor: User):
        self.tenant = tenant
        self.actor = actor
        self.rows: list[Transaction] = []
        self.card_spend: dict[tuple[int, int], Decimal] = {}

    def add(self, account: Account, day: dt.date, amount: Decimal, description: str, *,
            counterparty: str = "", reference: str = "", actor: User | None = None) -> None:
        self.rows.append(Transaction(
            tenant=self.tenant, account=account, booked_on=day, value_on=day, amount=amount,
            description=description, counterparty=counterparty, reference=reference, created_by=actor or self.actor,
        ))
        if account.type == Account.Type.CREDIT_CARD and amount < 0:
            key = (day.year, day.month)
            self.card_spend[key] = self.card_spend.get(key, Decimal("0")) - amount

    def transfer(self, source: Account, target: Account, day: dt.date, amount: Decimal, *,
                 target_amount: Decimal | None = None, description: str = "") -> None:
        self.add(source, day, -amount, description or f"Transfer to {target.name}", counterparty=self.tenant.name)
        self.add(target, day, target_amount if target_amount is not None else amount,
                 description or f"Transfer from {source.name}", counterparty=self.tenant.name)

    def settle_card(self, card: Account, source: Account, day: dt.date) -> None:
        """On the 3rd, the previous month's card spend is paid from `source`."""
        previous = _months_back(day, 1)
        spent = self.card_spend.get((previous.year, previous.month))
        if spent:
            self.transfer(source, card, day, spent, description=f"{card.name} statement {previous:%B %Y}")


def _days(*, today: dt.date):
    day = _months_back(today, MONTHS) + dt.timedelta(days=1)
    while day <= today:
        yield day
        day += dt.timedelta(days=1)


_GROCERS = ["Lidl", "Albert Heijn", "Carrefour", "Rewe", "Aldi", "Farmers market"]
_SHOPS = [("Café Central", 3, 18), ("Uber", 8, 35), ("Amazon", 12, 160), ("Bookshop", 9, 45),
          ("Pharmacy", 4, 40), ("Cinema", 10, 30), ("Restaurant Milano", 25, 95), ("Petrol station", 40, 90)]


def _personal_rows(book: _Book, rng: random.Random, *, current: Account, card: Account, savings: Account,
                   today: dt.date) -> None:
    for day in _days(today=today):
        if day.day == 1:
            book.add(current, day, Decimal("-1150.00"), "Rent", counterparty="Parkside Lettings",
                     reference=f"RENT-{day:%Y%m}")
        if day.day == 3:
            book.settle_card(card, current, day)
        if day.day == 8:
            book.add(current, day, -_money(rng, 55, 120), "Electricity", counterparty="City Power")
            book.add(current, day, Decimal("-39.99"), "Internet", counterparty="FiberNet")
            book.add(current, day, Decimal("-19.99"), "Mobile phone", counterparty="Telco Mobile")
        if day.day == 12:
            book.add(card, day, Decimal("-10.99"), "Music subscription", counterparty="Spotify")
        if day.day == 25:
            book.add(current, day, Decimal("3850.00"), "Salary", counterparty=ORGANIZATION_NAME,
                     reference=f"PAY-{day:%Y%m}")
        if day.day == 26:
            book.transfer(current, savings, day, Decimal("400.00"))
        if day.day == 28:
            book.add(savings, day, _money(rng, 1, 9), "Interest", counterparty="Bank")
        if day.weekday() in (1, 5) or rng.random() < 0.05:
            book.add(current, day, -_money(rng, 18, 140), "Groceries", counterparty=rng.choice(_GROCERS))
        if rng.random() < 0.5:
            shop, low, high = rng.choice(_SHOPS)
            book.add(card, day, -_money(rng, low, high), f"Card purchase {shop}", counterparty=shop)


_CLIENTS = ["Globex", "Initech", "Umbrella Corp", "Stark Industries", "Wayne Enterprises", "Hooli", "Soylent"]
_US_CLIENTS = ["Pied Piper Inc.", "Cyberdyne Systems", "Tyrell Corp"]
_SUPPLIERS = [("Office supplies", "Staples", 30, 400), ("Printing", "PrintHouse", 80, 900),
              ("Legal advice", "Baker & Partners", 400, 2500), ("Cleaning", "SparkleClean", 150, 450),
              ("Freelance design", "Studio Nord", 600, 3200), ("Hardware", "Dell", 300, 2400),
              ("Travel agency", "TravelCorp", 200, 1800)]
_CARD_SPEND = [("Train tickets", "Rail", 25, 180), ("Hotel", "Hotel Europa", 90, 420),
               ("Team lunch", "Bistro 21", 40, 260), ("Taxi", "Uber", 12, 60), ("Software", "Atlassian", 10, 150),
               ("Conference ticket", "EventBrite", 150, 900),
               ("Coffee beans", "Roastery", 15, 70), ("Flights", "Lufthansa", 120, 780)]
_STAFF = [("J. Novak", "3420.00"), ("M. Rossi", "3980.00"), ("S. Berg", "2950.00"), ("L. Dubois", "4410.00"),
          ("A. Kowalski", "3150.00"), ("T. Jansen", "3620.00")]


def _acme_rows(book: _Book, rng: random.Random, *, operating: Account, savings: Account, dollars: Account,
               card: Account, member: User, today: dt.date) -> None:
    invoice = 1000
    for day in _days(today=today):
        weekday = day.weekday() < 5
        if day.day == 1:
            book.add(operating, day, Decimal("-3200.00"), "Office rent", counterparty="Harbour Offices",
                     reference=f"RENT-{day:%Y%m}")
        if day.day == 3:
            book.settle_card(card, operating, day)
        if day.day == 5:
            book.add(dollars, day, -_money(rng, 700, 1600), "Cloud hosting", counterparty="Amazon Web Services")
            book.add(dollars, day, Decimal("-231.00"), "Code hosting", counterparty="GitHub")
            book.add(dollars, day, Decimal("-135.00"), "Design tools", counterparty="Figma")
        if day.day == 10:
            book.add(operating, day, -_money(rng, 180, 420), "Electricity", counterparty="City Power")
            book.add(operating, day, Decimal("-89.00"), "Internet", counterparty="FiberNet Business")
            book.add(operating, day, -_money(rng, 60, 140), "Phones", counterparty="Telco Business")
        if day.day == 15 and day.month % 3 == 0:
            usd = Decimal("25000.00")
            rate = Decimal(900 + rng.randint(0, 60)).scaleb(-3)
            book.transfer(dollars, operating, day, usd, target_amount=(usd * rate).quantize(Decimal("0.01")),
                          description="Currency exchange USD to EUR")
        if day.day == 20 and day.month % 3 == 1:
            quarter_end = _months_back(day, 1)
            book.add(operating, day, -_money(rng, 4000, 9000), "VAT payment", counterparty="Tax office",
                     reference=f"VAT-{quarter_end.year}-Q{(quarter_end.month - 1) // 3 + 1}")
        if day.day == 25:
            for person, salary in _STAFF:
                book.add(operating, day, -Decimal(salary), "Salary", counterparty=person, reference=f"PAY-{day:%Y%m}")
        if day.day == 27:
            book.transfer(operating, savings, day, Decimal("2000.00"))
        if day.day == 28:
            book.add(savings, day, _money(rng, 20, 60), "Interest", counterparty="Bank")
            book.add(operating, day, Decimal("-24.50"), "Account fees", counterparty="Bank")
        if not weekday:
            continue
        if rng.random() < 0.55:
            invoice += 1
            book.add(operating, day, _money(rng, 900, 6000), "Invoice paid", counterparty=rng.choice(_CLIENTS),
                     reference=f"INV-{day.year}-{invoice:04d}")
        if rng.random() < 0.25:
            invoice += 1
            book.add(dollars, day, _money(rng, 700, 3200), "Invoice paid", counterparty=rng.choice(_US_CLIENTS),
                     reference=f"INV-{day.year}-{invoice:04d}")
        if rng.random() < 0.55:
            description, supplier, low, high = rng.choice(_SUPPLIERS)
            book.add(operating, day, -_money(rng, low, high), description, counterparty=supplier)
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2))):
            description, merchant, low, high = rng.choice(_CARD_SPEND)
            book.add(card, day, -_money(rng, low, high), description, counterparty=merchant, actor=member)


def _person(email: str, *, password: str) -> User:
    _, name = PEOPLE[email]
    # Signed up with a throwaway strong password, then given the demo one: DEMO_PASSWORD is the
    # operator's choice and need not pass the validators (the default is "too similar" to demo@coffer.local).
    person = tenancy_services.user_sign_up(email=email, password=secrets.token_urlsafe(24), name=name)
    person.set_password(password)
    person.email_confirmed_at = person.date_joined  # demo addresses receive no mail; no banner for them
    person.save(update_fields=["password", "email_confirmed_at"])
    return person


def _accounts(tenant: Tenant, specs: list[tuple[str, str, str, str]]) -> list[Account]:
    accounts = []
    for name, type_, currency, opening in specs:
        accounts.append(Account.objects.create(
            tenant=tenant, name=name, type=type_, currency=currency,
            opening_balance=Decimal(opening), balance=Decimal(opening), institution="Demo Bank",
        ))
    return accounts


# The demo person has categorized most of their history (a few suppliers are left for suggestions).
_CATEGORY_OF = {
    "Rent": "Rent / mortgage", "Office rent": "Rent / mortgage", "Electricity": "Utilities",
    "Internet": "Phone & internet", "Mobile phone": "Phone & internet", "Phones": "Phone & internet",
    "Music subscription": "Streaming", "Salary": "Salary", "Interest": "Interest", "Groceries": "Groceries",
    "Cloud hosting": "Software", "Code hosting": "Software", "Design tools": "Software", "Software": "Software",
    "VAT payment": "Taxes", "Account fees": "Account fees", "Invoice paid": "Other income",
    "Train tickets": "Public transport", "Taxi": "Public transport", "Hotel": "Travel", "Flights": "Travel",
    "Team lunch": "Restaurants", "Conference ticket": "Education", "Coffee beans": "Groceries",
    "Office supplies": "Household", "Hardware": "Electronics",
    "Card purchase Café Central": "Restaurants", "Card purchase Uber": "Public transport",
    "Card purchase Amazon": "Household", "Card purchase Bookshop": "Entertainment",
    "Card purchase Pharmacy": "Pharmacy", "Card purchase Cinema": "Entertainment",
    "Card purchase Restaurant Milano": "Restaurants", "Card purchase Petrol station": "Fuel",
}
_TRANSFER_PREFIXES = ("Transfer ", "Currency exchange", "Company card statement", "Credit card statement")


def _categorize(book: _Book) -> None:
    ids = dict(Category.objects.filter(tenant=book.tenant).values_list("name", "id"))
    for row in book.rows:
        name = "Transfers" if row.description.startswith(_TRANSFER_PREFIXES) else _CATEGORY_OF.get(row.description)
        if name == "Salary" and row.amount < 0:
            name = None  # wages paid out: left for a rule or a person to decide
        if name in ids:
            row.category_id, row.category_source = ids[name], CategorySource.MANUAL


def _finish(book: _Book, accounts: list[Account]) -> None:
    _categorize(book)
    Transaction.objects.bulk_create(book.rows, batch_size=500)
    for account in accounts:
        total = Transaction.objects.filter(tenant=book.tenant, account=account).aggregate(total=Sum("amount"))["total"]
        Account.objects.filter(pk=account.pk).update(balance=account.opening_balance + money.stored(total))
    ledger_transfers.detect(book.tenant, actor=book.actor)
    audit_services.audit_record(
        tenant=book.tenant, actor=book.actor, action="demo.seed", instance=book.tenant,
        changes={"accounts": [None, len(accounts)], "transactions": [None, len(book.rows)]},
    )


def _summary(*, created: bool) -> DemoSummary:
    organization = Tenant.objects.filter(slug=ORGANIZATION_SLUG).first()
    return DemoSummary(
        created=created,
        people={email: role.value for email, (role, _) in PEOPLE.items()},
        organization_slug=ORGANIZATION_SLUG,
        accounts=Account.objects.filter(tenant=organization).count() if organization else 0,
        transactions=Transaction.objects.filter(tenant=organization).count() if organization else 0,
    )


def demo_seed(*, password: str, today: dt.date | None = None) -> DemoSummary:
    """Create the demo people, spaces, accounts and transactions, unless demo@coffer.local exists."""
    if not password:
        raise ValueError("The demo password must not be empty")
    if User.objects.filter(email=DEMO_EMAIL).exists():
        return _summary(created=False)
    today = today or dt.date.today()
    rng = random.Random(SEED)
    with transaction.atomic():
        people = {email: _person(email, password=password) for email in PEOPLE}
        owner = people[DEMO_EMAIL]
        acme = tenancy_services.organization_create(actor=owner, name=ORGANIZATION_NAME, slug=ORGANIZATION_SLUG)
        Membership.objects.bulk_create([
            Membership(tenant=acme, user=person, role=PEOPLE[email][0])
            for email, person in people.items() if email != DEMO_EMAIL
        ])

        personal = Membership.objects.get(user=owner, tenant__kind=Tenant.Kind.PERSONAL).tenant
        current, card, savings = personal_accounts = _accounts(personal, [
            ("Current account", Account.Type.CHECKING, "EUR", "2450.00"),
            ("Credit card", Account.Type.CREDIT_CARD, "EUR", "0.00"),
            ("Savings", Account.Type.SAVINGS, "EUR", "8000.00"),
        ])
        book = _Book(tenant=personal, actor=owner)
        _personal_rows(book, rng, current=current, card=card, savings=savings, today=today)
        _finish(book, personal_accounts)

        operating, acme_savings, dollars, acme_card = acme_accounts = _accounts(acme, [
            ("Operating account", Account.Type.CHECKING, "EUR", "25000.00"),
            ("Savings", Account.Type.SAVINGS, "EUR", "50000.00"),
            ("US dollar account", Account.Type.CHECKING, "USD", "30000.00"),
            ("Company card", Account.Type.CREDIT_CARD, "EUR", "0.00"),
        ])
        book = _Book(tenant=acme, actor=owner)
        _acme_rows(book, rng, operating=operating, savings=acme_savings, dollars=dollars, card=acme_card,
                   member=people["member@acme.example"], today=today)
        _finish(book, acme_accounts)
    return _summary(created=True)
