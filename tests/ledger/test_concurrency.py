"""Concurrent writers through the ledger services keep the denormalized balance exact."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

from django.db import connections

from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Account, Transaction
from tests import factories


def test_concurrent_creates_updates_and_deletes_keep_the_balance_exact(transactional_db):
    owner = factories.user()
    tenant = factories.organization(owner)
    account = factories.account(tenant, opening_balance="1000.0000")
    other = factories.account(tenant, opening_balance="0")
    threads_count, per_thread = 8, 25
    failures: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def work(index: int) -> None:
        try:
            start.wait()
            for step in range(per_thread):
                row = ledger_services.transaction_create(
                    tenant=tenant, actor=owner, account_id=account.pk, booked_on=dt.date(2024, 1, 1 + step % 28),
                    amount=Decimal(f"{index + 1}.{step:02d}01"),
                )
                if step % 5 == 0:
                    ledger_services.transaction_update(
                        tenant=tenant, actor=owner, transaction_id=row.pk, changes={"amount": "-0.0100"}
                    )
                if step % 7 == 0:
                    ledger_services.transaction_update(
                        tenant=tenant, actor=owner, transaction_id=row.pk, changes={"account_id": other.pk}
                    )
                if step % 11 == 0:
                    ledger_services.transaction_delete(tenant=tenant, actor=owner, transaction_id=row.pk)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    expected_rows = threads_count * per_thread - threads_count * len(range(0, per_thread, 11))
    assert Transaction.objects.count() == expected_rows
    for acct in (account, other):
        stored = Account.objects.get(pk=acct.pk)
        assert stored.balance == ledger_selectors.account_balance_recomputed(acct)
    total = sum(Transaction.objects.values_list("amount", flat=True), Decimal("0"))
    assert (
        Account.objects.get(pk=account.pk).balance + Account.objects.get(pk=other.pk).balance
        == Decimal("1000") + total
    )
