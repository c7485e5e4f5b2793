"""Personal access tokens of the signed-in person: /api/v1/tokens.

Only a signed-in session (JWT) manages tokens; a personal access token cannot mint more.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps, pagination
from coffer.api import selectors as api_selectors
from coffer.api import services as api_services
from coffer.api.routing import CofferRouter
from coffer.api.schemas import auth as schemas
from coffer.api.schemas.common import Page

router = CofferRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=Page[schemas.PatOut])
def token_list(
    principal: deps.Principal = Depends(deps.current_user_session),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Your tokens that are not revoked, newest first. The secret is never shown again."""
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = api_selectors.pat_page(user=principal.user, limit=limit, after=after)
    return {
        "items": [schemas.PatOut.model_validate(row).model_dump(mode="json") for row in rows],
        "next": pagination.encode_cursor(next_key) if next_key else None,
    }


@router.post("", status_code=201, response_model=schemas.PatCreatedOut)
def token_create(payload: schemas.PatIn, principal: deps.Principal = Depends(deps.current_user_session)):
    """A token for one tenant you belong to (404 otherwise), read or read-write."""
    token, secret = api_services.pat_create(
        user=principal.user, tenant_ref=payload.tenant, name=payload.name, scope=payload.scope,
        expires_in_days=payload.expires_in_days,
    )
    out = schemas.PatOut.model_validate(token).model_dump(mode="json")
    return {**out, "token": secret}


@router.delete("/{token_id}", status_code=204, response_class=Response)
def token_revoke(token_id: uuid.UUID, principal: deps.Principal = Depends(deps.current_user_session)):
    api_services.pat_revoke(user=principal.user, token_id=token_id)
    return Response(status_code=204)
