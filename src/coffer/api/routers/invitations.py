"""Invitations: managed under /api/v1/tenants/{tenant}/invitations, accepted under /api/v1/invitations.

The one-time token only ever leaves in the invitation email; the API never shows it.
"""

from __future__ import annotations

import uuid

from django.utils import timezone
from fastapi import Depends, Query, Response

from coffer.api import deps, pagination
from coffer.api.routers import organizations
from coffer.api.routing import CofferRouter
from coffer.api.schemas import tenancy as schemas
from coffer.api.schemas.common import Page
from coffer.tenancy import roles
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services

router = CofferRouter(tags=["invitations"])

BASE = "/tenants/{tenant}/invitations"


def _out(invitation, now=None) -> dict:
    return schemas.InvitationOut(
        id=invitation.id, email=invitation.email, role=invitation.role,
        status=tenancy_selectors.invitation_status(invitation, now=now),
        invited_by=schemas.UserRefOut.model_validate(invitation.invited_by) if invitation.invited_by else None,
        created_at=invitation.created_at, expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at, revoked_at=invitation.revoked_at,
    ).model_dump(mode="json")


def _accepted_out(membership) -> dict:
    return {
        "user": schemas.UserRefOut.model_validate(membership.user).model_dump(mode="json"),
        "tenant": schemas.TenantMembershipOut.of(membership),
    }


@router.get(BASE, response_model=Page[schemas.InvitationOut], summary="List a tenant's invitations (admin+)")
def invitation_list(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    limit: int = Query(pagination.DEFAULT_PAGE_SIZE, ge=1, le=pagination.MAX_PAGE_SIZE),
    cursor: str | None = Query(None, max_length=2000),
):
    """Newest first, with their status: open, accepted, revoked or expired."""
    ctx.require(roles.Action.MANAGE_MEMBERS)
    after = pagination.decode_cursor(cursor, size=2) if cursor else None
    rows, next_key = tenancy_selectors.invitation_page(tenant=ctx.tenant, limit=limit, after=after)
    now = timezone.now()
    return {"items": [_out(row, now) for row in rows], "next": pagination.encode_cursor(next_key) if next_key else None}


@router.post(BASE, status_code=201, response_model=schemas.InvitationOut, summary="Invite someone by email (admin+)")
def invitation_create(payload: schemas.InvitationIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Emails a one-time link. 409 if the address is already a member or has an open invitation;
    422 for a personal space; only owners invite owners."""
    organizations.require_session(ctx)
    ctx.require(roles.Action.MANAGE_MEMBERS)
    invitation, _token = tenancy_services.invitation_create(
        tenant=ctx.tenant, actor=ctx.user, email=payload.email, role=payload.role
    )
    return _out(invitation)


@router.delete(BASE + "/{invitation_id}", status_code=204, response_class=Response, summary="Revoke an invitation (admin+)")
def invitation_revoke(invitation_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    organizations.require_session(ctx)
    ctx.require(roles.Action.MANAGE_MEMBERS)
    tenancy_services.invitation_revoke(tenant=ctx.tenant, actor=ctx.user, invitation_id=invitation_id)
    return Response(status_code=204)


@router.post("/invitations/accept", status_code=201, response_model=schemas.InvitationAcceptedOut,
             summary="Accept an invitation as a signed-in person")
def invitation_accept(payload: schemas.InvitationAcceptIn, principal: deps.Principal = Depends(deps.current_user_session)):
    """The invitation's email must be yours (403 otherwise). 404 for an unknown token; 409 when it
    was used, revoked or has expired, or when you are already a member."""
    membership = tenancy_services.invitation_accept(user=principal.user, token=payload.token)
    return _accepted_out(membership)


@router.post("/invitations/accept-new", status_code=201, response_model=schemas.InvitationAcceptedOut,
             summary="Accept an invitation by creating an account")
def invitation_accept_new(payload: schemas.InvitationAcceptNewIn):
    """No sign-in: the account gets the invitation's email, a personal space and the membership.
    409 if an account with that email exists (sign in and use /invitations/accept); 422 for a weak password.
    Then sign in with POST /auth/token."""
    membership = tenancy_services.invitation_accept_new(token=payload.token, password=payload.password, name=payload.name)
    return _accepted_out(membership)
