"""One transaction's transfer, by hand: its linked counterpart with "unlink", or the candidates it could be
linked with (another account's transaction with the opposite amount, or across currencies the opposite sign,
booked a few days either side) with "link". Everyone sees it; members and up link and unlink, as in the API.
The rules live in ledger.transfers. With HTMX the panel swaps in place; without, each POST redirects back."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from coffer import errors
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import transfers
from coffer.tenancy import roles
from coffer.web import access

WRITE = roles.Action.WRITE_TRANSACTIONS


def _context(request, tenant, transaction_id, *, error: str = "") -> dict:
    row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=transaction_id)
    pair = transfers.transfer_get(tenant=tenant, transaction_id=row.pk) if row.transfer_pair_id else None
    other = None if pair is None else (pair.inflow if pair.outflow.pk == row.pk else pair.outflow)
    return {
        "coffer": request.coffer, "row": row, "pair": pair, "other": other, "error": error, "nav": "transactions",
        "candidates": [] if pair else transfers.link_candidates(tenant=tenant, row=row),
        "window": transfers.MATCH_WINDOW_DAYS, "can_write": request.coffer.can_write_transactions,
    }


def _answer(request, tenant, transaction_id, *, error: str = "", done: str = ""):
    """The panel for HTMX (422 with the error, which htmx swaps in too), else the page or a redirect to it."""
    if request.htmx:
        return render(request, "web/transfers/panel.html", _context(request, tenant, transaction_id, error=error),
                      status=422 if error else 200)
    if error:
        return access.page(request, "web/transfers/pair.html", _context(request, tenant, transaction_id, error=error),
                           status=422)
    messages.success(request, done)
    return redirect("web:transaction_transfer", tenant_slug=tenant.slug, transaction_id=transaction_id)


@require_GET
@access.tenant_view()
def transaction_transfer(request, tenant, transaction_id):
    return access.page(request, "web/transfers/pair.html", _context(request, tenant, transaction_id))


@require_POST
@access.tenant_view(WRITE)
def transaction_transfer_link(request, tenant, transaction_id):
    row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=transaction_id)
    try:
        transfers.link(tenant=tenant, actor=request.user, transaction_id=row.pk, pair_id=request.POST.get("pair_id"))
    except errors.NotFound:
        return _answer(request, tenant, row.pk, error="That transaction is not one of this space's (any more); "
                                                      "choose one from the list.")
    except (errors.ValidationError, errors.Conflict) as exc:
        return _answer(request, tenant, row.pk, error=exc.message)
    return _answer(request, tenant, row.pk, done="Linked as a transfer: the two no longer count as income or expense.")


@require_POST
@access.tenant_view(WRITE)
def transaction_transfer_unlink(request, tenant, transaction_id):
    row = ledger_selectors.transaction_get(tenant=tenant, transaction_id=transaction_id)
    try:
        transfers.unlink(tenant=tenant, actor=request.user, transaction_id=row.pk)
    except errors.NotFound as exc:
        return _answer(request, tenant, row.pk, error=exc.message)
    return _answer(request, tenant, row.pk, done="Unlinked: both count as expense and income again.")
