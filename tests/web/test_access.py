"""Each role on each page: what it may see and do, and the refusals (403 for a role, 404 for strangers)."""

from __future__ import annotations

import pytest

from coffer.ledger.models import Account, Transaction
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "viewer"]
WRITERS = {"owner", "admin", "member"}
MANAGERS = {"owner", "admin"}


@pytest.fixture
def ledger(org):
    account = factories.account(org.tenant, name="Current", opening_balance="100")
    row = factories.transaction(account, amount="-20.00", description="Groceries")
    return account, row


def _read_pages(org, account):
    return ["", "organization/", "accounts/", f"accounts/{account.pk}/", "transactions/"]


@pytest.mark.parametrize("role", ROLES)
def test_every_member_may_read_every_page(org, ledger, role):
    account, _ = ledger
    client = org.client(role)
    for rest in _read_pages(org, account):
        assert client.get(org.url(rest)).status_code == 200, rest


def test_an_outsider_gets_404_on_every_page_of_a_tenant_they_are_not_in(org, ledger):
    account, row = ledger
    client = org.client("outsider")
    pages = [*_read_pages(org, account), "accounts/new/", f"accounts/{account.pk}/edit/", "transactions/new/",
             f"transactions/{row.pk}/edit/", f"transactions/{row.pk}/row/"]
    for rest in pages:
        response = client.get(org.url(rest))
        assert response.status_code == 404, rest
        assert b"Groceries" not in response.content and b"Current" not in response.content
    assert client.post(org.url(f"transactions/{row.pk}/delete/")).status_code == 404
    assert client.post(org.url(f"accounts/{account.pk}/archive/")).status_code == 404
    assert Transaction.objects.filter(pk=row.pk).exists()


def test_an_unknown_tenant_looks_like_one_you_are_not_in(org):
    assert org.client("owner").get("/t/no-such-space/").status_code == 404


def test_a_visitor_is_sent_to_sign_in(client, org):
    response = client.get(org.url("transactions/"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", ROLES)
def test_account_management_is_for_admins_and_owners_only(org, ledger, role):
    account, _ = ledger
    client = org.client(role)
    expected = 200 if role in MANAGERS else 403

    assert client.get(org.url("accounts/new/")).status_code == expected
    assert client.get(org.url(f"accounts/{account.pk}/edit/")).status_code == expected
    created = client.post(org.url("accounts/new/"), {"name": f"By {role}", "type": "cash", "currency": "EUR",
                                                     "opening_balance": "0"})
    assert created.status_code == (302 if role in MANAGERS else 403)
    assert Account.objects.filter(tenant=org.tenant, name=f"By {role}").exists() == (role in MANAGERS)
    archived = client.post(org.url(f"accounts/{account.pk}/archive/"), {"archived": "1"})
    assert archived.status_code == (302 if role in MANAGERS else 403)
    account.refresh_from_db()
    assert account.archived == (role in MANAGERS)


def test_a_member_creating_an_account_gets_the_403_page(org):
    response = org.client("member").post(org.url("accounts/new/"), {"name": "X", "type": "cash", "currency": "EUR",
                                                                      "opening_balance": "0"})
    assert response.status_code == 403
    assert b"Not allowed" in response.content
    assert not Account.objects.filter(tenant=org.tenant).exists()


@pytest.mark.parametrize("role", ROLES)
def test_transaction_writes_are_for_members_and_up(org, ledger, role):
    account, row = ledger
    client = org.client(role)
    allowed = role in WRITERS

    assert client.get(org.url("transactions/new/")).status_code == (200 if allowed else 403)
    added = client.post(org.url("transactions/new/"), {"account": str(account.pk), "booked_on": "2024-02-01",
                                                        "amount": "5.00", "description": f"by {role}"})
    assert added.status_code == (302 if allowed else 403)
    assert Transaction.objects.filter(description=f"by {role}").exists() == allowed
    edited = client.post(org.url(f"transactions/{row.pk}/edit/"), {
        "account": str(account.pk), "booked_on": "2024-01-15", "amount": "-21.00", "description": "Groceries"})
    assert edited.status_code == (302 if allowed else 403)
    row.refresh_from_db()
    assert (row.amount == -21) == allowed
    deleted = client.post(org.url(f"transactions/{row.pk}/delete/"))
    assert deleted.status_code == (302 if allowed else 403)
    assert Transaction.objects.filter(pk=row.pk).exists() == (not allowed)


@pytest.mark.parametrize("role", ROLES)
def test_buttons_a_role_cannot_use_are_not_shown(org, ledger, role):
    account, row = ledger
    client = org.client(role)
    dashboard = client.get(org.url()).content.decode()
    accounts = client.get(org.url("accounts/")).content.decode()
    detail = client.get(org.url(f"accounts/{account.pk}/")).content.decode()
    transactions = client.get(org.url("transactions/")).content.decode()

    writes = role in WRITERS
    manages = role in MANAGERS
    assert ("Add transaction" in dashboard) == writes
    assert ("Add transaction" in transactions) == writes
    assert (f"transactions/{row.pk}/edit/" in transactions) == writes
    assert (f"transactions/{row.pk}/delete/" in transactions) == writes
    assert (f"transactions/{row.pk}/edit/" in detail) == writes
    assert ("New account" in accounts) == manages
    assert (f"accounts/{account.pk}/edit/" in detail) == manages
    assert (f"accounts/{account.pk}/archive/" in detail) == manages


def test_the_audit_trail_on_the_organization_page_is_for_admins_and_owners(org, ledger):
    assert b"Recent activity" in org.client("admin").get(org.url("organization/")).content
    assert b"Recent activity" not in org.client("member").get(org.url("organization/")).content


def test_another_tenants_account_and_transaction_ids_are_404_and_untouched(org, ledger):
    """An owner of one tenant naming another tenant's objects in their own tenant's URLs."""
    account, row = ledger
    mine = factories.organization(org.people["outsider"], name="Elsewhere")
    client = org.client("outsider")
    base = f"/t/{mine.slug}/"

    for rest in (f"accounts/{account.pk}/", f"accounts/{account.pk}/edit/", f"transactions/{row.pk}/edit/",
                 f"transactions/{row.pk}/row/"):
        assert client.get(base + rest).status_code == 404, rest
    assert client.post(base + f"accounts/{account.pk}/archive/").status_code == 404
    assert client.post(base + f"transactions/{row.pk}/edit/", {
        "account": str(account.pk), "booked_on": "2024-01-15", "amount": "1", "description": "x"}).status_code == 404
    assert client.post(base + f"transactions/{row.pk}/delete/").status_code == 404
    # Nor can a transaction be booked on another tenant's account.
    added = client.post(base + "transactions/new/", {"account": str(account.pk), "booked_on": "2024-01-01", "amount": "1"})
    assert added.status_code == 422
    row.refresh_from_db()
    account.refresh_from_db()
    assert row.amount == -20 and row.description == "Groceries" and not account.archived
    assert Transaction.objects.count() == 1


def test_not_a_uuid_in_the_url_is_404(org, ledger):
    client = org.client("owner")
    assert client.get(org.url("accounts/not-a-uuid/")).status_code == 404
    assert client.get(org.url("transactions/12345/edit/")).status_code == 404
