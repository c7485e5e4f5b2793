"""The signed-in person: /api/v1/me. Personal access tokens are refused (they reach one tenant only)."""

from __future__ import annotations

from fastapi import Depends

from coffer.api import deps
from coffer.api.routing import CofferRouter
from coffer.api.schemas import tenancy as schemas
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services

router = CofferRouter(prefix="/me", tags=["me"])


def _out(user) -> dict:
    memberships, more = tenancy_selectors.me_memberships(user=user)
    return schemas.MeOut(
        id=user.id, email=user.email, name=user.name, time_zone=user.time_zone,
        memberships=[schemas.TenantMembershipOut.of(m) for m in memberships], more_memberships=more,
    ).model_dump(mode="json")


@router.get("", response_model=schemas.MeOut, summary="Who you are and the tenants you belong to")
def me_detail(principal: deps.Principal = Depends(deps.current_user_session)):
    return _out(principal.user)


@router.patch("", response_model=schemas.MeOut, summary="Change your name or time zone")
def me_update(payload: schemas.MePatch, principal: deps.Principal = Depends(deps.current_user_session)):
    """`time_zone` is an IANA name such as Europe/Zurich (422 otherwise)."""
    user = tenancy_services.user_update(user=principal.user, changes=payload.model_dump(exclude_unset=True))
    return _out(user)
