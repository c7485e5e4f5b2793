"""Arrange helpers for tests: real services, real database."""

from __future__ import annotations

import itertools
from decimal import Decimal

from coffer.api import jwt
from coffer.ledger.models import Account
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Membership, Tenant, User

PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count(1)


def user(email: str | None = None, *, password: str = PASSWORD, name: str = "") -> User:
    return tenancy_services.user_sign_up(email=email or f"person{next(_seq)}@example.test", password=password, name=name)


def organization(owner: User, *, name: str | None = None, slug: str | None = None, **members: list[User]) -> Tenant:
    """`organization(owner, admin=[a], member=[m], viewer=[v])`."""
    tenant = tenancy_services.organization_create(actor=owner, name=name or f"Org {next(_seq)}", slug=slug)
    for role, users in members.items():
        for person in users:
            Membership.objects.create(tenant=tenant, user=person, role=role)
    return tenant


def account(tenant: Tenant, *, name: str | None = None, currency: str = "EUR", opening_balance: str = "0") -> Account:
    opening = Decimal(opening_balance)
    return Account.objects.create(
        tenant=tenant, name=name or f"Account {next(_seq)}", currency=currency,
        opening_balance=opening, balance=opening,
    )


def auth_headers(person: User) -> dict[str, str]:
    token, _ = jwt.access_token_issue(user_id=person.pk)
    return {"Authorization": f"Bearer {token}"}


def transaction(account: Account, *, amount: str = "1.00", booked_on=None, actor: User | None = None, **fields):
    """A transaction written through the ledger service, so the account balance follows."""
    import datetime as dt

    from coffer.ledger import services as ledger_services

    return ledger_services.transaction_create(
        tenant=account.tenant, actor=actor, account_id=account.pk, amount=amount,
        booked_on=booked_on or dt.date(2024, 1, 15), **fields,
    )
