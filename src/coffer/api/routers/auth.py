"""Sign-up and session tokens: /api/v1/auth/*. No bearer token needed here."""

from __future__ import annotations

import dataclasses

from fastapi import Request, Response

from coffer.api import services as api_services
from coffer.api.routing import CofferRouter
from coffer.api.schemas import auth as schemas
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services
from coffer.tenancy import signin

router = CofferRouter(prefix="/auth", tags=["auth"])


def _pair(pair: api_services.TokenPair) -> dict:
    return schemas.TokenPairOut.model_validate(dataclasses.asdict(pair)).model_dump(mode="json")


@router.post("/signup", status_code=201, response_model=schemas.SignUpOut)
def sign_up(payload: schemas.SignUpIn):
    """A new person with their own personal space. 409 if the email is taken, 422 for a weak password."""
    user = tenancy_services.user_sign_up(email=payload.email, password=payload.password, name=payload.name)
    tenant = tenancy_selectors.memberships_of_user(user=user).first().tenant
    return schemas.SignUpOut(
        user=schemas.UserOut.model_validate(user), tenant=schemas.TenantRefOut.model_validate(tenant)
    ).model_dump(mode="json")


@router.post("/token", response_model=schemas.TokenPairOut)
def token(payload: schemas.TokenIn, request: Request):
    """Email and password for an access token and a refresh token. 429 after too many failures."""
    user = signin.sign_in(
        email=payload.email, password=payload.password, address=request.client.host if request.client else ""
    )
    return _pair(api_services.token_pair_issue(user=user))


@router.post("/refresh", response_model=schemas.TokenPairOut)
def refresh(payload: schemas.RefreshIn):
    """A refresh token for a new pair. Each refresh token works once; reusing one revokes its family."""
    return _pair(api_services.token_refresh(refresh_token=payload.refresh_token))


@router.post("/logout", status_code=204, response_class=Response)
def logout(payload: schemas.RefreshIn):
    """Revoke the refresh token and every token rotated from the same sign-in."""
    api_services.token_logout(refresh_token=payload.refresh_token)
    return Response(status_code=204)
