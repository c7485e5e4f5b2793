"""A transaction's transfer page: link with a candidate counterpart, unlink a pair (members and up, as in the
API; HTMX swaps the panel in place), and editing a linked side in the web unlinks a broken pair."""

from __future__ import annotations

import datetime as dt

import pytest

from coffer.audit.models import AuditEntry
from coffer.ledger import transfers
from coffer.ledger.models import Transaction, TransferDismissal
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
WRITERS = ["owner", "admin", "member"]
D = dt.date(2025, 4, 10)


@pytest.fixture
def books(org):
    return {
        "checking": factories.account(org.tenant, name="Checking", opening_balance="1000"),
        "savings": factories.account(org.tenant, name="Savings"),
        "dollars": factories.account(org.tenant, name="Dollars", currency="USD"),
    }


def tx(account, amount, day=D, description=""):
    return factories.transaction(account, amount=amount, booked_on=day, description=description)


def pair_of(row):
    return Transaction.objects.get(pk=row.pk).transfer_pair_id


def _state(tenant) -> tuple:
    return (sorted(Transaction.objects.filter(tenant=tenant).values_list("pk", "transfer_pair_id", "amount")),
            sorted(TransferDismissal.objects.filter(tenant=tenant).values_list("outflow_id", "inflow_id")),
            AuditEntry.objects.filter(tenant=tenant).count())


def test_the_page_offers_the_candidates_and_everyone_may_look(org, books):
    out = tx(books["checking"], "-200.00", description="To savings")
    match = tx(books["savings"], "200.00", D + dt.timedelta(days=2), description="From checking")
    dollars = tx(books["dollars"], "216.40", D, description="Wise USD")
    tx(books["savings"], "199.00", D, description="Not opposite")
    page = org.client("viewer").get(org.url(f"transactions/{out.pk}/transfer/")).content.decode()
    assert "To savings" in page
    assert page.index(f'id="candidate-{match.pk}"') < page.index(f'id="candidate-{dollars.pk}"')
    assert "Not opposite" not in page
    assert ">Link</button>" not in page  # viewers do not write


@pytest.mark.parametrize("who", WRITERS)
def test_members_and_up_link_a_candidate_and_unlink_it_again(org, books, who):
    out = tx(books["checking"], "-200.00", description="To savings")
    into = tx(books["savings"], "200.00", D + dt.timedelta(days=1), description="From checking")
    client = org.client(who)
    response = client.post(org.url(f"transactions/{out.pk}/transfer/link/"), {"pair_id": str(into.pk)}, follow=True)
    assert response.redirect_chain == [(org.url(f"transactions/{out.pk}/transfer/"), 302)]
    assert (pair_of(out), pair_of(into)) == (into.pk, out.pk)
    page = response.content.decode()
    assert "Linked as a transfer" in page and 'data-testid="counterpart"' in page and "From checking" in page
    assert AuditEntry.objects.filter(tenant=org.tenant, action="transfer.link").count() == 1

    response = client.post(org.url(f"transactions/{into.pk}/transfer/unlink/"), follow=True)
    assert (pair_of(out), pair_of(into)) == (None, None)
    assert "Unlinked" in response.content.decode()
    assert TransferDismissal.objects.filter(tenant=org.tenant, outflow_id=out.pk, inflow_id=into.pk).exists()


def test_with_htmx_link_and_unlink_swap_the_panel(org, books):
    out = tx(books["checking"], "-100.00")
    into = tx(books["dollars"], "108.00")  # across currencies: any amounts of opposite signs
    client = org.client("member")
    response = client.post(org.url(f"transactions/{out.pk}/transfer/link/"), {"pair_id": str(into.pk)}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<section class="card table-card" id="transfer-panel"')
    assert "<html" not in body and 'data-testid="counterpart"' in body and "108.00" in body
    response = client.post(org.url(f"transactions/{out.pk}/transfer/unlink/"), **HTMX)
    assert response.status_code == 200 and 'data-testid="candidates"' in response.content.decode()
    assert pair_of(out) is None


@pytest.mark.parametrize(("make", "words"), [
    (lambda b: tx(b["savings"], "199.00"), "are opposite"),
    (lambda b: tx(b["savings"], "-200.00"), "(a negative amount) and into another"),
    (lambda b: tx(b["checking"], "200.00"), "two different accounts"),
])
def test_a_bad_link_is_refused_with_its_reason_and_nothing_changes(org, books, make, words):
    out = tx(books["checking"], "-200.00")
    other = make(books)
    before = _state(org.tenant)
    client = org.client("member")
    response = client.post(org.url(f"transactions/{out.pk}/transfer/link/"), {"pair_id": str(other.pk)}, **HTMX)
    assert response.status_code == 422 and words in response.content.decode()
    assert 'data-testid="transfer-error"' in response.content.decode()
    response = client.post(org.url(f"transactions/{out.pk}/transfer/link/"), {"pair_id": str(other.pk)})
    assert response.status_code == 422 and words in response.content.decode() and "<html" in response.content.decode()
    assert _state(org.tenant) == before


def test_a_side_already_in_another_transfer_is_refused(org, books):
    out = tx(books["checking"], "-200.00")
    into = tx(books["savings"], "200.00")
    second_out = tx(books["dollars"], "-210.00")
    transfers.link(tenant=org.tenant, actor=None, transaction_id=out.pk, pair_id=into.pk)
    before = _state(org.tenant)
    response = org.client("member").post(org.url(f"transactions/{second_out.pk}/transfer/link/"),
                                         {"pair_id": str(into.pk)})
    assert response.status_code == 422 and "already part of a transfer" in response.content.decode()
    assert _state(org.tenant) == before


@pytest.mark.parametrize("pair_id", ["", "not-a-uuid", "00000000-0000-7000-8000-000000000000"])
def test_a_missing_or_unknown_counterpart_is_refused(org, books, pair_id):
    out = tx(books["checking"], "-200.00")
    before = _state(org.tenant)
    response = org.client("member").post(org.url(f"transactions/{out.pk}/transfer/link/"), {"pair_id": pair_id})
    assert response.status_code == 422 and "choose one from the list" in response.content.decode()
    assert _state(org.tenant) == before


def test_viewers_cannot_link_or_unlink(org, books):
    out = tx(books["checking"], "-200.00")
    into = tx(books["savings"], "200.00")
    free = tx(books["savings"], "200.00", D + dt.timedelta(days=1))
    transfers.link(tenant=org.tenant, actor=None, transaction_id=out.pk, pair_id=into.pk)
    client, before = org.client("viewer"), _state(org.tenant)
    page = client.get(org.url(f"transactions/{out.pk}/transfer/")).content.decode()
    assert 'data-testid="counterpart"' in page and 'data-testid="unlink"' not in page
    assert client.post(org.url(f"transactions/{out.pk}/transfer/unlink/")).status_code == 403
    assert client.post(org.url(f"transactions/{free.pk}/transfer/link/"), {"pair_id": str(out.pk)}).status_code == 403
    assert _state(org.tenant) == before


def test_another_tenants_transactions_are_404_and_never_candidates(org, books):
    other = factories.organization(org.people["outsider"], name="Other")
    their_account = factories.account(other, name="Their account")
    theirs = tx(their_account, "200.00", description="Their secret")
    out = tx(books["checking"], "-200.00")
    before = (_state(org.tenant), _state(other))
    member = org.client("member")
    assert "Their secret" not in member.get(org.url(f"transactions/{out.pk}/transfer/")).content.decode()
    assert member.get(org.url(f"transactions/{theirs.pk}/transfer/")).status_code == 404
    assert member.post(org.url(f"transactions/{theirs.pk}/transfer/link/"), {"pair_id": str(out.pk)}).status_code == 404
    assert member.post(org.url(f"transactions/{theirs.pk}/transfer/unlink/")).status_code == 404
    response = member.post(org.url(f"transactions/{out.pk}/transfer/link/"), {"pair_id": str(theirs.pk)})
    assert response.status_code == 422
    outsider = org.client("outsider")
    assert outsider.get(org.url(f"transactions/{out.pk}/transfer/")).status_code == 404
    assert outsider.post(org.url(f"transactions/{out.pk}/transfer/unlink/")).status_code == 404
    assert (_state(org.tenant), _state(other)) == before


def test_unlinking_a_transaction_that_is_not_linked_says_so(org, books):
    out = tx(books["checking"], "-200.00")
    response = org.client("member").post(org.url(f"transactions/{out.pk}/transfer/unlink/"), **HTMX)
    assert response.status_code == 422 and "not part of a transfer" in response.content.decode()


def test_the_page_runs_the_same_queries_whatever_the_number_of_candidates(org, books):
    out = tx(books["checking"], "-50.00")
    client = org.client("member")
    tx(books["savings"], "50.00")
    client.get(org.url(f"transactions/{out.pk}/transfer/"))
    with count_queries() as few:
        client.get(org.url(f"transactions/{out.pk}/transfer/"))
    for i in range(1, 30):
        tx(books["savings"], "50.00", D + dt.timedelta(days=i % 9))
        tx(books["dollars"], f"{50 + i}.00", D - dt.timedelta(days=i % 9))
    with count_queries() as many:
        page = client.get(org.url(f"transactions/{out.pk}/transfer/")).content.decode()
    assert len(many) == len(few)
    assert page.count('id="candidate-') == transfers.MAX_CANDIDATES


def test_the_transactions_list_links_each_row_to_its_transfer_page(org, books):
    out = tx(books["checking"], "-50.00")
    page = org.client("member").get(org.url("transactions/")).content.decode()
    assert org.url(f"transactions/{out.pk}/transfer/") in page


# --- editing a linked side in the web -------------------------------------------------------------


def test_editing_a_linked_amount_in_the_web_unlinks_the_pair(org, books):
    out = tx(books["checking"], "-200.00", description="To savings")
    into = tx(books["savings"], "200.00")
    transfers.link(tenant=org.tenant, actor=None, transaction_id=out.pk, pair_id=into.pk)
    response = org.client("member").post(org.url(f"transactions/{out.pk}/edit/"), {
        "account": str(books["checking"].pk), "booked_on": D.isoformat(), "amount": "-180.00",
        "description": "To savings",
    })
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    assert (pair_of(out), pair_of(into)) == (None, None)
    entry = AuditEntry.objects.filter(tenant=org.tenant, action="transaction.update").latest("created_at")
    assert entry.changes["transfer_pair"] == [str(into.pk), None]
