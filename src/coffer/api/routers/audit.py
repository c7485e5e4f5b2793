"""The audit trail of a tenant: /api/v1/tenants/{tenant}/audit. Read-only, admins and owners."""

from __future__ import annotations

import uuid

from fastapi import Depends, Query

from coffer.api import deps, pagination
from coffer.api.routing import CofferRouter
from coffer.api.schemas import audit as schemas
from coffer.api.schemas.common import Page
from coffer.audit import selectors as audit_selectors
from coffer.tenancy import roles

router = CofferRouter(tags=["audit"])


@router.get("/tenants/{tenant}/audit", response_model=Page[schemas.AuditEntryOut],
            summary="Read the audit trail, newest first (admin+)")
def audit_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    object_type: str | None = Query(None, max_length=64, description="e.g. account, transaction, membership"),
    object_id: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=64, description="e.g. membership.update"),
    actor: uuid.UUID | None = Query(None, description="User id of who made the change"),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Every create, update and delete in the tenant: who, when, what, and each changed field's before and after."""
    ctx.require(roles.Action.READ_AUDIT)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = audit_selectors.audit_page(
        tenant=ctx.tenant, limit=limit, after=after, object_type=object_type, object_id=object_id, action=action,
        actor_id=actor,
    )
    return {
        "items": [schemas.AuditEntryOut.model_validate(row).model_dump(mode="json") for row in rows],
        "next": pagination.encode_cursor(next_key) if next_key else None,
    }
