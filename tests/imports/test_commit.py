"""Commit, undo, duplicates and review operations on staged rows (the database half).

Rows are staged here straight from parsed-row values (what the reader yields), so these tests
do not depend on any file format; tests/imports/test_pipeline*.py run real files end to end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.imports import selectors, services, staging
from coffer.imports.models import ImportBatch, StagedRow
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger.models import Account, Transaction
from tests import factories


@dataclasses.dataclass
class Parsed:
    number: int
    booked_on: dt.date | None
    amount: Decimal | None
    description: str = ""
    balance: Decimal | None = None
    reference: str = ""
    value_on: dt.date | None = None
    counterparty: str = ""
    currency: str = ""
    category: str = ""
    raw: list = dataclasses.field(default_factory=list)
    issues: list = dataclasses.field(default_factory=list)


def row(number, day, amount, description, balance=None, reference="", issues=()):
    return Parsed(number=number, booked_on=dt.date(2024, 3, day) if day else None,
                  amount=Decimal(amount) if amount is not None else None, description=description,
                  balance=Decimal(balance) if balance is not None else None, reference=reference,
                  raw=[str(day), description, str(amount)], issues=list(issues))


STATEMENT = [
    row(2, 1, "-3.50", "Coffee Corner", balance="96.50"),
    row(3, 1, "-3.50", "Coffee Corner", balance="93.00"),  # a second, genuine coffee
    row(4, 2, "1200.00", "Salary", balance="1293.00", reference="SAL-03"),
    row(5, 2, "1200.00", "Salary", balance="1293.00", reference="SAL-03"),  # the same line pasted twice
    row(6, 3, "-40.00", "Groceries", balance="1253.00"),
    row(7, None, "-9.99", "Broken date", issues=[
        {"row": 7, "column": "A", "code": "E_DATE_INVALID", "severity": "error", "message": "Not a date", "value": "31/02"},
    ]),
]


def stage(account: Account, rows, *, status=ImportBatch.Status.REVIEW) -> ImportBatch:
    batch = ImportBatch.objects.create(tenant=account.tenant, account=account, file_name="s.csv",
                                       file_path="imports/x/s.csv", sha256="0" * 64)
    staging.write_rows([staging.staged_values(batch, parsed) for parsed in rows])
    staging.mark_duplicates(batch)
    staging.summarise(batch)
    ImportBatch.objects.filter(pk=batch.pk).update(status=status)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def owner(db):
    return factories.user()


@pytest.fixture
def tenant(owner):
    return factories.organization(owner)


@pytest.fixture
def account(tenant):
    return factories.account(tenant, opening_balance="100.00")


def balance(account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance


def test_staging_tells_a_pasted_line_from_a_genuine_repeat(account):
    batch = stage(account, STATEMENT)
    rows = {r.row_number: r for r in StagedRow.objects.filter(batch=batch)}
    assert (rows[2].occurrence, rows[3].occurrence) == (1, 2)
    assert not rows[2].is_duplicate and not rows[3].is_duplicate
    assert rows[2].fingerprint != rows[3].fingerprint
    assert rows[5].is_duplicate and rows[5].duplicate_of_row == 4 and not rows[4].is_duplicate
    assert [i["code"] for i in selectors.row_issues(rows[5])] == ["W_DUPLICATE_IN_FILE"]
    assert rows[7].has_error and rows[7].fingerprint is None
    assert (batch.rows_total, batch.rows_with_errors, batch.rows_duplicate, batch.rows_valid) == (6, 1, 1, 5)


def test_commit_writes_valid_rows_once_and_moves_the_balance(account, owner, tenant):
    batch = stage(account, STATEMENT)
    batch = services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    assert batch.status == "committed" and batch.rows_committed == 4
    added = Transaction.objects.filter(account=account).order_by("booked_on", "amount")
    assert sorted(t.description for t in added) == ["Coffee Corner", "Coffee Corner", "Groceries", "Salary"]
    assert all(t.import_batch_id == batch.pk for t in added)
    assert set(added.values_list("id", flat=True)) == set(
        StagedRow.objects.filter(batch=batch, has_error=False, is_duplicate=False).values_list("transaction_id", flat=True)
    )
    assert balance(account) == Decimal("100.00") - Decimal("3.50") * 2 + Decimal("1200.00") - Decimal("40.00")
    assert balance(account) == ledger_selectors.account_balance_recomputed(account)
    assert AuditEntry.objects.filter(tenant=tenant, action="import.commit", object_id=str(batch.pk)).count() == 1


def test_committing_twice_adds_nothing(account, owner, tenant):
    batch = stage(account, STATEMENT)
    services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    again = services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    assert again.rows_committed == 4
    assert Transaction.objects.filter(account=account).count() == 4
    assert balance(account) == Decimal("1253.00")
    assert AuditEntry.objects.filter(action="import.commit").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_commits_of_the_same_import_add_nothing(account, owner, tenant):
    batch = stage(account, STATEMENT)
    results, failures = [], []
    barrier = threading.Barrier(2)

    def commit():
        try:
            barrier.wait()
            results.append(services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk).rows_committed)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=commit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert results == [4, 4]
    assert Transaction.objects.filter(account=account).count() == 4
    assert balance(account) == Decimal("1253.00")


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_rows_committed_at_once_add_them_once(account, owner, tenant):
    first, second = stage(account, STATEMENT), stage(account, STATEMENT)
    barrier = threading.Barrier(2)

    def commit(batch):
        try:
            barrier.wait()
            services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=commit, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    counts = sorted(ImportBatch.objects.filter(pk__in=[first.pk, second.pk]).values_list("rows_committed", flat=True))
    assert counts == [0, 4]
    assert Transaction.objects.filter(account=account).count() == 4
    assert balance(account) == Decimal("1253.00")


def test_a_reimport_is_flagged_as_existing_and_adds_nothing(account, owner, tenant):
    first = stage(account, STATEMENT)
    services.import_commit(tenant=tenant, actor=owner, import_id=first.pk)
    second = stage(account, STATEMENT)
    flagged = StagedRow.objects.filter(batch=second, duplicate_of_transaction__isnull=False)
    assert sorted(flagged.values_list("row_number", flat=True)) == [2, 3, 4, 6]
    coffee = flagged.get(row_number=3)
    assert Transaction.objects.get(pk=coffee.duplicate_of_transaction).import_batch_id == first.pk
    assert "W_DUPLICATE_EXISTING" in [i["code"] for i in selectors.row_issues(coffee)]
    services.import_commit(tenant=tenant, actor=owner, import_id=second.pk)
    second.refresh_from_db()
    assert second.rows_committed == 0
    assert Transaction.objects.filter(account=account).count() == 4


def test_a_flagged_duplicate_can_be_imported_anyway(account, owner, tenant):
    first = stage(account, STATEMENT)
    services.import_commit(tenant=tenant, actor=owner, import_id=first.pk)
    second = stage(account, STATEMENT)
    services.import_rows_update(tenant=tenant, actor=owner, import_id=second.pk, row_numbers=[6], import_anyway=True)
    batch = services.import_commit(tenant=tenant, actor=owner, import_id=second.pk)
    assert batch.rows_committed == 1
    assert Transaction.objects.filter(account=account, description="Groceries").count() == 2
    assert balance(account) == Decimal("1213.00")


def test_a_pasted_line_imported_anyway_is_added(account, owner, tenant):
    batch = stage(account, STATEMENT)
    services.import_rows_update(tenant=tenant, actor=owner, import_id=batch.pk, row_numbers=[5], import_anyway=True)
    assert services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk).rows_committed == 5


def test_excluded_rows_are_not_committed(account, owner, tenant):
    batch = stage(account, STATEMENT)
    services.import_rows_update(tenant=tenant, actor=owner, import_id=batch.pk, row_numbers=[4, 6], excluded=True)
    assert services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk).rows_committed == 2
    assert balance(account) == Decimal("93.00")


def test_undo_removes_exactly_what_the_import_added_and_the_file_imports_again(account, owner, tenant):
    manual = factories.transaction(account, amount="-10.00", description="Hand-entered", booked_on=dt.date(2024, 3, 1))
    batch = stage(account, STATEMENT)
    services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    undone = services.import_undo(tenant=tenant, actor=owner, import_id=batch.pk)
    assert undone.status == "undone"
    assert list(Transaction.objects.filter(account=account)) == [manual]
    assert balance(account) == Decimal("90.00") == ledger_selectors.account_balance_recomputed(account)
    assert AuditEntry.objects.filter(action="import.undo", object_id=str(batch.pk)).count() == 1
    with pytest.raises(errors.Conflict):
        services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    again = stage(account, STATEMENT)
    assert not StagedRow.objects.filter(batch=again, duplicate_of_transaction__isnull=False).exists()
    assert services.import_commit(tenant=tenant, actor=owner, import_id=again.pk).rows_committed == 4
    assert balance(account) == Decimal("1243.00")


def test_undo_of_an_import_not_committed_is_refused(account, owner, tenant):
    batch = stage(account, STATEMENT)
    with pytest.raises(errors.Conflict):
        services.import_undo(tenant=tenant, actor=owner, import_id=batch.pk)


def test_only_an_import_in_review_can_be_committed(account, owner, tenant):
    batch = stage(account, STATEMENT, status=ImportBatch.Status.VALIDATING)
    with pytest.raises(errors.Conflict):
        services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    assert not Transaction.objects.exists()


def test_rows_cannot_change_after_commit(account, owner, tenant):
    batch = stage(account, STATEMENT)
    services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    with pytest.raises(errors.Conflict):
        services.import_rows_update(tenant=tenant, actor=owner, import_id=batch.pk, row_numbers=[2], excluded=True)
    assert not StagedRow.objects.filter(batch=batch, excluded=True).exists()


def test_unknown_rows_are_refused_and_nothing_changes(account, owner, tenant):
    batch = stage(account, STATEMENT)
    with pytest.raises(errors.ValidationError):
        services.import_rows_update(tenant=tenant, actor=owner, import_id=batch.pk, row_numbers=[2, 999], excluded=True)
    assert not StagedRow.objects.filter(batch=batch, excluded=True).exists()


def test_another_tenants_import_is_not_found_and_untouched(account, owner, tenant):
    batch = stage(account, STATEMENT)
    stranger = factories.user()
    other = factories.organization(stranger)
    calls = [
        lambda: services.import_commit(tenant=other, actor=stranger, import_id=batch.pk),
        lambda: services.import_undo(tenant=other, actor=stranger, import_id=batch.pk),
        lambda: services.import_rows_update(tenant=other, actor=stranger, import_id=batch.pk, row_numbers=[2], excluded=True),
        lambda: services.import_mapping_replace(tenant=other, actor=stranger, import_id=batch.pk, mapping={"date": "A", "amount": "C"}),
        lambda: services.import_mapping_save_preset(tenant=other, actor=stranger, import_id=batch.pk),
        lambda: selectors.import_get(tenant=other, import_id=batch.pk),
        lambda: selectors.staged_row_page(tenant=other, import_id=batch.pk, limit=10),
        lambda: selectors.import_issue_page(tenant=other, import_id=batch.pk, limit=10),
        lambda: selectors.import_get(tenant=other, import_id="not-a-uuid"),
    ]
    for call in calls:
        with pytest.raises(errors.NotFound):
            call()
    batch.refresh_from_db()
    assert batch.status == "review" and not Transaction.objects.exists()
    assert not StagedRow.objects.filter(batch=batch, excluded=True).exists()
    assert selectors.import_page(tenant=other, limit=10) == ([], None)


def test_issue_pages_filter_by_code_and_severity(account, tenant):
    batch = stage(account, STATEMENT)
    issues, _ = selectors.import_issue_page(tenant=tenant, import_id=batch.pk, limit=50)
    assert [(i["row"], i["code"]) for i in issues] == [(5, "W_DUPLICATE_IN_FILE"), (7, "E_DATE_INVALID")]
    errors_only, _ = selectors.import_issue_page(tenant=tenant, import_id=batch.pk, limit=50, severity="error")
    assert [i["row"] for i in errors_only] == [7]
    dupes, _ = selectors.import_issue_page(tenant=tenant, import_id=batch.pk, limit=50, code="W_DUPLICATE_IN_FILE")
    assert [i["row"] for i in dupes] == [5]
    first, after = selectors.import_issue_page(tenant=tenant, import_id=batch.pk, limit=1)
    rest, end = selectors.import_issue_page(tenant=tenant, import_id=batch.pk, limit=1, after=after)
    assert ([i["row"] for i in first], after, [i["row"] for i in rest], end) == ([5], 5, [7], None)


def test_staged_rows_page_in_row_order(account, tenant):
    batch = stage(account, STATEMENT)
    page, after = selectors.staged_row_page(tenant=tenant, import_id=batch.pk, limit=4)
    rest, end = selectors.staged_row_page(tenant=tenant, import_id=batch.pk, limit=4, after=after)
    assert [r.row_number for r in page + rest] == [2, 3, 4, 5, 6, 7] and end is None
    only, _ = selectors.staged_row_page(tenant=tenant, import_id=batch.pk, limit=10, only="duplicates")
    assert [r.row_number for r in only] == [5]
    with pytest.raises(errors.ValidationError):
        selectors.staged_row_page(tenant=tenant, import_id=batch.pk, limit=101)


def test_a_bad_mapping_is_refused_with_field_errors(account, owner, tenant):
    batch = stage(account, STATEMENT)
    with pytest.raises(errors.ValidationError) as caught:
        services.import_mapping_replace(tenant=tenant, actor=owner, import_id=batch.pk,
                                        mapping={"date": "A", "amount": "A", "colour": "B"})
    assert "colour" in caught.value.field_errors
    batch.refresh_from_db()
    assert batch.status == "review" and batch.mapping_source == ""


def test_a_replaced_mapping_is_kept_and_queues_a_new_validation(account, owner, tenant):
    batch = stage(account, STATEMENT)
    batch = services.import_mapping_replace(tenant=tenant, actor=owner, import_id=batch.pk, enqueue=False,
                                            mapping={"date": "A", "description": "B", "amount": "C"}, header_row=1)
    assert (batch.status, batch.mapping, batch.mapping_source) == ("queued", {"date": 0, "description": 1, "amount": 2}, "user")
    assert selectors.import_mapping(tenant=tenant, import_id=batch.pk)["mapping"] == {"date": "A", "description": "B", "amount": "C"}
    assert AuditEntry.objects.filter(action="import.mapping_replace", object_id=str(batch.pk)).count() == 1
    assert not Transaction.objects.exists()


def test_a_saved_preset_is_used_for_the_next_file_with_the_same_header(account, owner, tenant):
    batch = stage(account, STATEMENT)
    ImportBatch.objects.filter(pk=batch.pk).update(signature="sig-1", mapping={"date": 0, "amount": 3}, header_row=4)
    preset = services.import_mapping_save_preset(tenant=tenant, actor=owner, import_id=batch.pk)
    assert (preset.signature, preset.mapping, preset.header_row) == ("sig-1", {"date": 0, "amount": 3}, 4)
    following = stage(account, STATEMENT[:1])
    detection = type("Detection", (), {"signature": "sig-1", "mapping": {"date": 1}, "header_row": 1, "confidence": 0.4})
    opened = staging.Opened(workbook=None, format="csv", sheet=None, sheets=[], detection=detection)
    assert staging._choose_mapping(following, opened) == ({"date": 0, "amount": 3}, 4, "preset", 1.0)
    other_tenant_batch = stage(factories.account(factories.organization(factories.user())), STATEMENT[:1])
    assert staging._choose_mapping(other_tenant_batch, opened) == ({"date": 1}, 1, "detected", 0.4)


# --- what the commit does to the ledger beyond the rows: categories, transfers, tags --------------


def test_a_category_column_naming_a_category_sets_it_and_unknown_or_ambiguous_text_is_left(account, owner, tenant):
    from coffer.ledger.models import Category, CategorySource

    groceries = Category.objects.get(tenant=tenant, name="Groceries")
    parent = Category.objects.filter(tenant=tenant, parent__isnull=True).exclude(pk=groceries.parent_id).first()
    Category.objects.create(tenant=tenant, name="Twice", parent=None, kind=parent.kind)
    Category.objects.create(tenant=tenant, name="twice", parent=parent, kind=parent.kind)
    rows = [dataclasses.replace(row(2, 1, "-40.00", "Market"), category=" groceries "),
            dataclasses.replace(row(3, 2, "-5.00", "Kiosk"), category="Snacks"),
            dataclasses.replace(row(4, 3, "-7.00", "Both"), category="TWICE")]
    batch = stage(account, rows)
    services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    got = {t.description: (t.category_id, t.category_source) for t in Transaction.objects.filter(import_batch=batch)}
    assert got == {"Market": (groceries.pk, CategorySource.IMPORT), "Kiosk": (None, ""), "Both": (None, "")}


def test_an_imported_row_mirroring_a_payment_from_another_own_account_is_linked_as_a_transfer(account, owner, tenant):
    savings = factories.account(tenant, name="Savings", currency=account.currency)
    sent = factories.transaction(savings, amount="-250.00", booked_on=dt.date(2024, 3, 1), description="To current")
    batch = stage(account, [row(2, 2, "250.00", "From savings")])
    services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    received = Transaction.objects.get(import_batch=batch)
    sent.refresh_from_db()
    assert received.transfer_pair_id == sent.pk and sent.transfer_pair_id == received.pk


def test_undo_of_an_import_whose_rows_were_tagged_and_paired_removes_them(account, owner, tenant):
    from coffer.ledger import services as ledger_services
    from coffer.ledger.models import Tag

    savings = factories.account(tenant, name="Savings", currency=account.currency)
    sent = factories.transaction(savings, amount="-250.00", booked_on=dt.date(2024, 3, 1))
    batch = stage(account, [row(2, 2, "250.00", "From savings"), row(3, 2, "-1.00", "Fee")])
    services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    Tag.objects.create(tenant=tenant, name="checked")
    fee = Transaction.objects.get(import_batch=batch, description="Fee")
    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=fee.pk, changes={"tags": ["checked"]})
    services.import_undo(tenant=tenant, actor=owner, import_id=batch.pk)
    assert not Transaction.objects.filter(import_batch=batch).exists()
    sent.refresh_from_db()
    assert sent.transfer_pair_id is None
    assert ledger_selectors.account_balance_recomputed(account) == balance(account)


def test_duplicates_are_renumbered_when_an_edit_breaks_or_makes_a_repeat(account):
    """Only rows whose key repeats, or that carry an earlier mark, are renumbered: an edit must still
    move every row it affects (here through the fields the row-edit service rewrites)."""
    coffees = [row(n, 1, "-3.50", "Coffee Corner", balance=str(100 - n)) for n in (2, 3, 4)]
    batch = stage(account, [*coffees, row(5, 2, "-8.00", "Bakery", balance="80.00")])

    def numbering():
        return {r.row_number: (r.occurrence, r.fingerprint.rsplit("-", 1)[1], r.fingerprint.rsplit("-", 1)[0])
                for r in StagedRow.objects.filter(batch=batch)}

    def edit(number, **fields):
        staged = StagedRow.objects.get(batch=batch, row_number=number)
        values = staging.staged_values(batch, row(number, **fields), transaction_id=staged.transaction_id)
        StagedRow.objects.filter(pk=staged.pk).update(
            **{name: values[name] for name in ("booked_on", "amount", "balance", "description", "fingerprint_base",
                                               "content_hash")})
        staging.mark_duplicates(batch)
        return numbering()

    before = numbering()
    assert [before[n][:2] for n in (2, 3, 4)] == [(1, "1"), (2, "2"), (3, "3")]
    moved = edit(5, day=3, amount="-9.00", description="Bakery", balance="80.00")  # unique before and after
    assert moved[5][:2] == (1, "1") and moved[5][2] != before[5][2]
    after = edit(3, day=1, amount="-4.50", description="Coffee Corner", balance="97")
    assert [after[n][:2] for n in (2, 3, 4)] == [(1, "1"), (1, "1"), (2, "2")]
    assert after[3][2] != after[2][2] and after[4][2] == after[2][2]
    bakery = edit(5, day=1, amount="-3.50", description="Coffee Corner", balance="50.00")
    assert bakery[5][:2] == (3, "3") and bakery[5][2] == after[2][2]  # now the third coffee of the day
    alone = edit(5, day=2, amount="-8.00", description="Bakery", balance="80.00")
    assert alone[5][:2] == (1, "1") and alone[5][2] == before[5][2]  # the old fingerprint is gone
