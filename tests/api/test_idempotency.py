"""Idempotency-Key on POST creates: replay, mismatch, per-user keys, races."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections
from django.utils import timezone

from coffer import errors
from coffer.api import idempotency
from coffer.api.models import IdempotencyRecord
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Account, Transaction
from coffer.tenancy.models import Membership
from tests import factories


@pytest.fixture
def setup(transactional_db):
    owner = factories.user()
    tenant = factories.organization(owner)
    account = factories.account(tenant, opening_balance="100")
    return owner, tenant, account


def txn_url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.slug}/transactions"


def acct_url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.slug}/accounts"


def test_the_same_key_and_body_replay_the_first_answer_without_a_second_row(client_api, setup):
    owner, tenant, account = setup
    headers = {**factories.auth_headers(owner), "Idempotency-Key": "pay-rent-2024-06"}
    body = {"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-900", "description": "Rent"}
    first = client_api.post(txn_url(tenant), headers=headers, json=body)
    second = client_api.post(txn_url(tenant), headers=headers, json=body)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Transaction.objects.filter(tenant=tenant).count() == 1
    assert Account.objects.get(pk=account.pk).balance == -800


def test_the_same_body_written_differently_is_still_the_same_request(client_api, setup):
    owner, tenant, account = setup
    headers = {**factories.auth_headers(owner), "Idempotency-Key": "k1", "Content-Type": "application/json"}
    first = client_api.post(txn_url(tenant), headers=headers,
                            content=f'{{"account_id": "{account.pk}", "booked_on": "2024-06-01", "amount": "-9.5"}}')
    second = client_api.post(txn_url(tenant), headers=headers,
                             content=f'{{"amount":"-9.50","booked_on":"2024-06-01","account_id":"{account.pk}"}}')
    assert first.status_code == 201
    assert second.json() == first.json()
    assert Transaction.objects.count() == 1


def test_a_different_body_with_the_same_key_is_409_and_creates_nothing(client_api, setup):
    owner, tenant, account = setup
    headers = {**factories.auth_headers(owner), "Idempotency-Key": "k2"}
    body = {"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-1"}
    assert client_api.post(txn_url(tenant), headers=headers, json=body).status_code == 201
    response = client_api.post(txn_url(tenant), headers=headers, json={**body, "amount": "-2"})
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert list(Transaction.objects.values_list("amount", flat=True)) == [-1]


def test_the_same_key_on_another_endpoint_is_409(client_api, setup):
    owner, tenant, account = setup
    headers = {**factories.auth_headers(owner), "Idempotency-Key": "k3"}
    assert client_api.post(acct_url(tenant), headers=headers, json={"name": "Cash", "currency": "EUR"}).status_code == 201
    response = client_api.post(txn_url(tenant), headers=headers,
                               json={"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-1"})
    assert response.status_code == 409
    assert not Transaction.objects.exists()


def test_account_creates_replay_too(client_api, setup):
    owner, tenant, _ = setup
    headers = {**factories.auth_headers(owner), "Idempotency-Key": "new-account"}
    first = client_api.post(acct_url(tenant), headers=headers, json={"name": "Savings", "currency": "EUR"})
    second = client_api.post(acct_url(tenant), headers=headers, json={"name": "Savings", "currency": "EUR"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert Account.objects.filter(tenant=tenant, name="Savings").count() == 1


def test_keys_belong_to_one_user(client_api, setup):
    owner, tenant, account = setup
    member = factories.user()
    Membership.objects.create(tenant=tenant, user=member, role="member")
    body = {"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-1"}
    for person in (owner, member):
        response = client_api.post(txn_url(tenant), headers={**factories.auth_headers(person), "Idempotency-Key": "same"}, json=body)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
    assert Transaction.objects.count() == 2


def test_a_refused_request_is_not_remembered_so_the_fixed_retry_goes_through(client_api, setup):
    owner, tenant, account = setup
    Account.objects.filter(pk=account.pk).update(archived_at=timezone.now())
    headers = {**factories.auth_headers(owner), "Idempotency-Key": "retry-me"}
    body = {"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-1"}
    assert client_api.post(txn_url(tenant), headers=headers, json=body).status_code == 409
    assert not IdempotencyRecord.objects.exists()
    Account.objects.filter(pk=account.pk).update(archived_at=None)
    assert client_api.post(txn_url(tenant), headers=headers, json=body).status_code == 201


def test_a_refused_role_gets_no_replay(client_api, setup):
    owner, tenant, account = setup
    viewer = factories.user()
    Membership.objects.create(tenant=tenant, user=viewer, role="viewer")
    body = {"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-1"}
    response = client_api.post(txn_url(tenant), headers={**factories.auth_headers(viewer), "Idempotency-Key": "v"}, json=body)
    assert response.status_code == 403
    assert not Transaction.objects.exists() and not IdempotencyRecord.objects.exists()


def test_an_expired_key_can_be_used_again(client_api, setup, settings):
    owner, tenant, account = setup
    headers = {**factories.auth_headers(owner), "Idempotency-Key": "old"}
    body = {"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-1"}
    assert client_api.post(txn_url(tenant), headers=headers, json=body).status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS + 1))
    response = client_api.post(txn_url(tenant), headers=headers, json={**body, "amount": "-2"})
    assert response.status_code == 201
    assert Transaction.objects.count() == 2


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_an_unusable_key_is_422_and_creates_nothing(client_api, setup, key):
    owner, tenant, account = setup
    body = {"account_id": str(account.pk), "booked_on": "2024-06-01", "amount": "-1"}
    response = client_api.post(txn_url(tenant), headers={**factories.auth_headers(owner), "Idempotency-Key": key}, json=body)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Transaction.objects.exists()


def test_concurrent_requests_with_one_key_create_one_row_and_agree(setup):
    owner, tenant, account = setup
    results, failures = [], []
    start = threading.Barrier(6)

    def create():
        row = ledger_services.transaction_create(
            tenant=tenant, actor=owner, account_id=account.pk, booked_on=dt.date(2024, 6, 1), amount="-5"
        )
        return 201, {"id": str(row.pk)}

    def worker():
        try:
            start.wait()
            results.append(idempotency.run(key="race", user=owner, method="POST", path="/x", request_hash="h", call=create))
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert Transaction.objects.count() == 1
    assert {body["id"] for _, body, _ in results} == {str(Transaction.objects.get().pk)}
    assert sum(1 for *_, replayed in results if not replayed) == 1
    assert Account.objects.get(pk=account.pk).balance == 95


def test_run_without_a_key_just_calls(setup):
    calls = []
    assert idempotency.run(key=None, user=setup[0], method="POST", path="/x", request_hash="h",
                           call=lambda: calls.append(1) or (201, {})) == (201, {}, False)
    assert calls == [1]
    with pytest.raises(errors.ValidationError):
        idempotency.run(key="\x00", user=setup[0], method="POST", path="/x", request_hash="h", call=lambda: (201, {}))
