"""Category suggestions: /api/v1/tenants/{tenant}/transactions/suggestions.

For each uncategorized transaction, the category that the tenant's own categorized transactions
like it got: the same counterparty or description, a similar counterparty, or the same words;
learned from the most recent 5000 categorized transactions, money in and money out apart, with a
confidence from 0 to 1. Listed a page at a time, newest first. Accepting one sets the category
as a person would (`category_source` "manual": no rule replaces it). Everyone reads; members and
above accept.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Query

from coffer.api import deps, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import ledger as ledger_schemas
from coffer.api.schemas import suggestions as schemas
from coffer.api.schemas.common import Page
from coffer.ledger import rule_selectors, rule_services
from coffer.ledger import selectors as ledger_selectors
from coffer.tenancy import roles

router = CofferRouter(tags=["suggestions"])

BASE = "/tenants/{tenant}/transactions/suggestions"


def _category_name(category) -> str:
    return f"{category.parent.name} / {category.name}" if category.parent_id else category.name


def _item(item: rule_selectors.SuggestedTransaction) -> dict:
    suggestion = None
    if item.suggestion is not None and item.category is not None:
        suggestion = {
            "category_id": item.category.pk, "category_name": _category_name(item.category),
            "confidence": item.suggestion.confidence, "basis": item.suggestion.basis, "seen": item.suggestion.seen,
        }
    return schemas.SuggestedTransaction(
        transaction=ledger_schemas.TransactionOut.model_validate(item.transaction), suggestion=suggestion
    ).model_dump(mode="json")


@router.get(BASE, response_model=Page[schemas.SuggestedTransaction])
def suggestion_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    account: uuid.UUID | None = Query(None, description="Only this account's transactions"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Uncategorized transactions, newest first, each with its suggested category (null when there is none)."""
    ctx.require(roles.Action.READ)
    after = pagination.decode_cursor(cursor, size=3) if cursor else None
    items, next_key = rule_selectors.suggestion_page(tenant=ctx.tenant, limit=limit, after=after, account_id=account)
    return {"items": [_item(item) for item in items], "next": pagination.encode_cursor(next_key) if next_key else None}


@router.post(BASE + "/{transaction_id}/accept", response_model=ledger_schemas.TransactionOut)
def suggestion_accept(
    transaction_id: uuid.UUID,
    payload: schemas.SuggestionAccept | None = None,
    ctx: deps.TenantContext = Depends(deps.tenant_context),
):
    """Put the transaction in the suggested category (`category_id` as listed, or without it the current
    suggestion). 409 when it is already categorized or nothing is suggested; 422 for a category that is not the
    tenant's."""
    ctx.require(roles.Action.WRITE_TRANSACTIONS)
    category_id = payload.category_id if payload is not None else None
    row = rule_services.suggestion_accept(
        tenant=ctx.tenant, actor=ctx.user, transaction_id=transaction_id, category_id=category_id
    )
    fresh = ledger_selectors.transaction_get(tenant=ctx.tenant, transaction_id=row.pk)
    return ledger_schemas.TransactionOut.model_validate(fresh).model_dump(mode="json")
