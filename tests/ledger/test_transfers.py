"""Transfers between a tenant's own accounts: detection (true pairs found, near misses not), linking and
unlinking by hand, and what deleting one side or undoing an import does to the other."""

from __future__ import annotations

import datetime as dt

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.imports import services as import_services
from coffer.ledger import services as ledger_services
from coffer.ledger import transfers
from coffer.ledger.models import Transaction, TransferDismissal
from tests import factories
from tests.imports.test_commit import row as staged_row
from tests.imports.test_commit import stage
from tests.querycount import count_queries

D = dt.date(2024, 2, 10)


@pytest.fixture
def books(db):
    owner = factories.user()
    tenant = factories.organization(owner)
    return {
        "owner": owner, "tenant": tenant,
        "checking": factories.account(tenant, name="Checking", currency="EUR", opening_balance="1000"),
        "savings": factories.account(tenant, name="Savings", currency="EUR"),
        "usd": factories.account(tenant, name="Dollars", currency="USD"),
    }


def tx(account, amount, day=D, **fields):
    return factories.transaction(account, amount=amount, booked_on=day, **fields)


def pair_of(row) -> object:
    return Transaction.objects.get(pk=row.pk).transfer_pair_id


# --- detection ----------------------------------------------------------------


def test_a_true_pair_is_found_and_linked_both_ways_with_one_audit_entry(books):
    out = tx(books["checking"], "-250.00", D)
    into = tx(books["savings"], "250.00", D + dt.timedelta(days=2))
    assert transfers.detect(books["tenant"], actor=books["owner"]) == 1
    assert (pair_of(out), pair_of(into)) == (into.pk, out.pk)
    entry = AuditEntry.objects.get(tenant=books["tenant"], action="transfer.detect")
    assert entry.changes["pairs"] == [0, 1]
    assert transfers.detect(books["tenant"]) == 0  # nothing left to link, nothing audited
    assert AuditEntry.objects.filter(tenant=books["tenant"], action="transfer.detect").count() == 1


@pytest.mark.parametrize("days", [-transfers.DETECT_WINDOW_DAYS, transfers.DETECT_WINDOW_DAYS])
def test_the_window_includes_its_last_day_in_either_order(books, days):
    out = tx(books["checking"], "-80.00", D)
    into = tx(books["savings"], "80.00", D + dt.timedelta(days=days))
    assert transfers.detect(books["tenant"]) == 1
    assert pair_of(out) == into.pk


def test_near_misses_are_not_linked(books):
    tenant, checking, savings, usd = books["tenant"], books["checking"], books["savings"], books["usd"]
    stranger = factories.organization(factories.user())
    cases = [
        (tx(checking, "-100.00"), tx(savings, "100.01")),  # a cent apart
        (tx(checking, "-101.00"), tx(savings, "101.00", D + dt.timedelta(days=transfers.DETECT_WINDOW_DAYS + 1))),
        (tx(checking, "-102.00"), tx(checking, "102.00")),  # the same account
        (tx(checking, "-103.00"), tx(usd, "103.00")),  # another currency
        (tx(checking, "-104.00"), tx(factories.account(stranger, currency="EUR"), "104.00")),  # another tenant
        (tx(checking, "-105.00"), tx(savings, "-105.00")),  # both out
    ]
    assert transfers.detect(tenant) == 0
    assert transfers.detect(stranger) == 0
    for out, into in cases:
        assert (pair_of(out), pair_of(into)) == (None, None)


def test_an_ambiguous_match_is_left_for_a_person(books):
    out = tx(books["checking"], "-60.00", D)
    first = tx(books["savings"], "60.00", D)
    second = tx(books["savings"], "60.00", D + dt.timedelta(days=1))
    other_out = tx(books["checking"], "-70.00", D)
    other_one = tx(books["savings"], "70.00", D)
    other_out_twin = tx(factories.account(books["tenant"], currency="EUR"), "-70.00", D)  # two outflows for one inflow
    assert transfers.detect(books["tenant"]) == 0
    for row in (out, first, second, other_out, other_one, other_out_twin):
        assert pair_of(row) is None


def test_monthly_transfers_of_the_same_amount_each_find_their_own_partner(books):
    pairs = [(tx(books["checking"], "-500.00", dt.date(2024, m, 1)), tx(books["savings"], "500.00", dt.date(2024, m, 2)))
             for m in range(1, 7)]
    assert transfers.detect(books["tenant"]) == 6
    assert all(pair_of(out) == into.pk for out, into in pairs)


def test_since_looks_only_at_pairs_with_a_side_on_or_after_that_day(books):
    old_out, old_in = tx(books["checking"], "-40.00", dt.date(2024, 1, 5)), tx(books["savings"], "40.00", dt.date(2024, 1, 5))
    # the outflow is older than `since`, its inflow (the import) is not: found
    new_out, new_in = tx(books["checking"], "-45.00", D - dt.timedelta(days=2)), tx(books["savings"], "45.00", D)
    assert transfers.detect(books["tenant"], since=D) == 1
    assert pair_of(new_out) == new_in.pk and pair_of(old_out) is None
    assert transfers.detect(books["tenant"]) == 1
    assert pair_of(old_out) == old_in.pk


def test_already_linked_rows_are_not_linked_again(books):
    out = tx(books["checking"], "-90.00")
    into = tx(books["savings"], "90.00")
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=into.pk)
    extra = tx(factories.account(books["tenant"], currency="EUR"), "90.00")
    assert transfers.detect(books["tenant"]) == 0
    assert pair_of(extra) is None and pair_of(out) == into.pk


def test_detection_runs_a_fixed_number_of_queries_whatever_the_number_of_transactions(books):
    def run(count: int) -> int:
        tenant = factories.organization(books["owner"])
        a, b = factories.account(tenant, currency="EUR"), factories.account(tenant, currency="EUR")
        for i in range(count):
            tx(a, f"-{i + 1}.00", D)
            tx(b, f"{i + 1}.00", D)
            tx(a, f"-{i + 1}.50", D)  # noise without a partner
        with count_queries() as queries:
            assert transfers.detect(tenant) == count
        return len(queries)

    assert run(2) == run(25)


# --- by hand ------------------------------------------------------------------


def test_linking_by_hand_is_audited_and_orders_the_sides(books):
    into = tx(books["savings"], "75.00")
    out = tx(books["checking"], "-75.00", D + dt.timedelta(days=20))  # far apart: a person knows better
    outflow, inflow = transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=into.pk, pair_id=out.pk)
    assert (outflow.pk, inflow.pk) == (out.pk, into.pk)
    assert (pair_of(out), pair_of(into)) == (into.pk, out.pk)
    entry = AuditEntry.objects.get(tenant=books["tenant"], action="transfer.link")
    assert (entry.actor_id, entry.object_id, entry.changes["inflow"]) == (books["owner"].pk, str(out.pk), [None, str(into.pk)])
    # linking the same two again changes nothing
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=into.pk)
    assert AuditEntry.objects.filter(tenant=books["tenant"], action="transfer.link").count() == 1


def test_across_currencies_any_amounts_of_opposite_signs_link(books):
    out = tx(books["checking"], "-100.00")
    into = tx(books["usd"], "108.37")
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=into.pk)
    assert pair_of(out) == into.pk


@pytest.mark.parametrize("make, error", [
    (lambda b: (tx(b["checking"], "-10.00"), tx(b["checking"], "10.00")), errors.ValidationError),  # same account
    (lambda b: (tx(b["checking"], "-10.00"), tx(b["savings"], "-10.00")), errors.ValidationError),  # same sign
    (lambda b: (tx(b["checking"], "-10.50"), tx(b["savings"], "10.00")), errors.ValidationError),  # not opposite
    (lambda b: (tx(b["checking"], "0.00"), tx(b["savings"], "10.00")), errors.ValidationError),  # zero
])
def test_links_that_are_not_transfers_are_refused_and_nothing_changes(books, make, error):
    first, second = make(books)
    with pytest.raises(error):
        transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=first.pk, pair_id=second.pk)
    assert (pair_of(first), pair_of(second)) == (None, None)
    assert not AuditEntry.objects.filter(tenant=books["tenant"], action="transfer.link").exists()


def test_a_transaction_is_part_of_one_transfer_at_most(books):
    out, into = tx(books["checking"], "-20.00"), tx(books["savings"], "20.00")
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=into.pk)
    other = tx(factories.account(books["tenant"], currency="EUR"), "20.00")
    with pytest.raises(errors.Conflict):
        transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=other.pk)
    with pytest.raises(errors.ValidationError):
        transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=out.pk)
    assert pair_of(out) == into.pk and pair_of(other) is None


def test_another_tenants_transaction_is_not_found(books):
    stranger = factories.organization(factories.user())
    theirs = tx(factories.account(stranger, currency="EUR"), "30.00")
    ours = tx(books["checking"], "-30.00")
    with pytest.raises(errors.NotFound):
        transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=ours.pk, pair_id=theirs.pk)
    with pytest.raises(errors.NotFound):
        transfers.unlink(tenant=stranger, actor=books["owner"], transaction_id=ours.pk)
    assert (pair_of(ours), pair_of(theirs)) == (None, None)


def test_an_unlinked_pair_is_never_detected_again_but_can_be_linked_by_hand(books):
    out, into = tx(books["checking"], "-300.00"), tx(books["savings"], "300.00")
    assert transfers.detect(books["tenant"]) == 1
    transfers.unlink(tenant=books["tenant"], actor=books["owner"], transaction_id=into.pk)
    assert (pair_of(out), pair_of(into)) == (None, None)
    assert TransferDismissal.objects.filter(tenant=books["tenant"], outflow_id=out.pk, inflow_id=into.pk).exists()
    assert AuditEntry.objects.filter(tenant=books["tenant"], action="transfer.unlink", object_id=str(out.pk)).exists()
    assert transfers.detect(books["tenant"]) == 0
    # ...while another inflow for the same outflow may still be found
    again = tx(factories.account(books["tenant"], currency="EUR"), "300.00")
    assert transfers.detect(books["tenant"]) == 1
    assert pair_of(out) == again.pk
    with pytest.raises(errors.NotFound):  # not part of a transfer any more
        transfers.unlink(tenant=books["tenant"], actor=books["owner"], transaction_id=into.pk)


def test_deleting_one_side_unlinks_the_other(books):
    out, into = tx(books["checking"], "-15.00"), tx(books["savings"], "15.00")
    transfers.detect(books["tenant"])
    ledger_services.transaction_delete(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk)
    assert pair_of(into) is None


def test_undoing_an_import_unlinks_the_transfers_it_took_part_in(books):
    tenant = books["tenant"]
    out = tx(books["checking"], "-1200.00", dt.date(2024, 3, 1))
    batch = stage(books["savings"], [staged_row(2, 2, "1200.00", "From checking")])
    import_services.import_commit(tenant=tenant, actor=books["owner"], import_id=batch.pk)
    assert pair_of(out) is not None  # the commit looked for transfers itself
    assert transfers.detect(tenant, since=dt.date(2024, 3, 2)) == 0
    import_services.import_undo(tenant=tenant, actor=books["owner"], import_id=batch.pk)
    assert pair_of(out) is None
    assert not Transaction.objects.filter(tenant=tenant, account=books["savings"]).exists()


def test_the_transfer_list_shows_each_pair_once_newest_first(books):
    made = []
    for day in (1, 5, 9):
        out = tx(books["checking"], f"-{day}.00", dt.date(2024, 4, day))
        into = tx(books["savings"], f"{day}.00", dt.date(2024, 4, day))
        made.append((out.pk, into.pk))
    transfers.detect(books["tenant"])
    first, key = transfers.transfer_page(tenant=books["tenant"], limit=2)
    rest, end = transfers.transfer_page(tenant=books["tenant"], limit=2, after=key)
    assert end is None
    seen = [(t.outflow.pk, t.inflow.pk) for t in first + rest]
    assert seen == made[::-1]


# --- editing a side ---------------------------------------------------------


def linked(books, amount="250.00"):
    out = tx(books["checking"], f"-{amount}", D, description="To savings")
    into = tx(books["savings"], amount, D + dt.timedelta(days=1))
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=into.pk)
    return out, into


@pytest.mark.parametrize("changes", [{"amount": "-240.00"}, {"amount": "250.00"}])
def test_an_amount_edit_that_breaks_the_pair_unlinks_both_sides_in_the_update_audit_entry(books, changes):
    out, into = linked(books)
    ledger_services.transaction_update(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk,
                                       changes=changes)
    assert (pair_of(out), pair_of(into)) == (None, None)
    entry = AuditEntry.objects.filter(tenant=books["tenant"], action="transaction.update").latest("created_at")
    assert entry.changes["transfer_pair"] == [str(into.pk), None]
    assert "amount" in entry.changes
    # not a person's "these are not a pair": editing back lets detection find them again
    assert not TransferDismissal.objects.filter(tenant=books["tenant"]).exists()
    ledger_services.transaction_update(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk,
                                       changes={"amount": "-250.00"})
    assert transfers.detect(books["tenant"]) == 1


def test_moving_a_side_into_the_other_sides_account_unlinks_the_pair(books):
    out, into = linked(books)
    ledger_services.transaction_update(tenant=books["tenant"], actor=books["owner"], transaction_id=into.pk,
                                       changes={"account_id": books["checking"].pk})
    assert (pair_of(out), pair_of(into)) == (None, None)
    entry = AuditEntry.objects.filter(tenant=books["tenant"], action="transaction.update").latest("created_at")
    assert entry.changes["transfer_pair"] == [str(out.pk), None]


def test_edits_that_keep_the_pair_a_transfer_keep_it_linked(books):
    out, into = linked(books)
    other = factories.account(books["tenant"], name="Other savings", currency="EUR")
    for changes in ({"description": "Rent pot", "booked_on": D + dt.timedelta(days=3)},
                    {"account_id": other.pk}, {"amount": "250.0"}):
        ledger_services.transaction_update(tenant=books["tenant"], actor=books["owner"], transaction_id=into.pk,
                                           changes=changes)
        assert (pair_of(out), pair_of(into)) == (into.pk, out.pk), changes
    assert not any("transfer_pair" in entry.changes for entry in AuditEntry.objects.filter(
        tenant=books["tenant"], action="transaction.update"))


def test_across_currencies_only_a_change_of_sign_unlinks(books):
    out = tx(books["checking"], "-100.00")
    into = tx(books["usd"], "108.00")
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk, pair_id=into.pk)
    ledger_services.transaction_update(tenant=books["tenant"], actor=books["owner"], transaction_id=into.pk,
                                       changes={"amount": "109.50"})
    assert pair_of(into) == out.pk
    ledger_services.transaction_update(tenant=books["tenant"], actor=books["owner"], transaction_id=into.pk,
                                       changes={"amount": "-109.50"})
    assert (pair_of(out), pair_of(into)) == (None, None)


def test_a_refused_edit_leaves_the_pair_linked(books):
    out, into = linked(books)
    with pytest.raises(errors.Conflict):  # a EUR transaction cannot move into a USD account
        ledger_services.transaction_update(tenant=books["tenant"], actor=books["owner"], transaction_id=out.pk,
                                           changes={"amount": "-1", "account_id": books["usd"].pk})
    assert (pair_of(out), pair_of(into)) == (into.pk, out.pk)
    assert Transaction.objects.get(pk=out.pk).amount == -250


# --- candidates for linking by hand ------------------------------------------------------------


def test_candidates_are_free_opposite_rows_of_other_accounts_near_the_date_same_currency_first(books):
    out = tx(books["checking"], "-100.00")
    exact_far = tx(books["savings"], "100.00", D + dt.timedelta(days=transfers.MATCH_WINDOW_DAYS))
    exact_near = tx(books["savings"], "100.00", D - dt.timedelta(days=1))
    dollars = tx(books["usd"], "107.00", D)
    tx(books["savings"], "99.00", D)  # not opposite
    tx(books["checking"], "100.00", D)  # same account
    tx(books["usd"], "-107.00", D)  # same sign
    tx(books["savings"], "100.00", D + dt.timedelta(days=transfers.MATCH_WINDOW_DAYS + 1))  # too far
    taken_out, taken_in = tx(books["savings"], "-5"), tx(books["checking"], "5")
    transfers.link(tenant=books["tenant"], actor=books["owner"], transaction_id=taken_out.pk, pair_id=taken_in.pk)
    stranger = factories.organization(factories.user())
    tx(factories.account(stranger, currency="EUR"), "100.00", D)  # another tenant's

    row = Transaction.objects.select_related("account").get(pk=out.pk)
    with count_queries() as queries:
        found = transfers.link_candidates(tenant=books["tenant"], row=row)
    assert [t.pk for t in found] == [exact_near.pk, exact_far.pk, dollars.pk]
    assert len(queries) == 3
    assert transfers.link_candidates(tenant=books["tenant"], row=row, limit=1) == [found[0]]
