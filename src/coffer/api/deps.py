"""FastAPI dependencies: who is calling, and in which tenant with which role.

Each is a plain def wrapped by `db_bound`, because FastAPI runs it in its own
thread-pool call (see coffer.api.db).
"""

from __future__ import annotations

import dataclasses

from django.utils import timezone
from fastapi import Path, Request

from coffer import errors
from coffer.api import etag, jwt
from coffer.api import services as api_services
from coffer.api.db import db_bound
from coffer.api.models import ApiToken
from coffer.ops import context as ops_context
from coffer.secrets import secret_hash
from coffer.tenancy import roles
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy.models import Tenant, User



@dataclasses.dataclass(frozen=True)
class Principal:
    user: User
    api_token: ApiToken | None = None  # set when the caller used a personal access token


@dataclasses.dataclass(frozen=True)
class TenantContext:
    principal: Principal
    tenant: Tenant
    role: str

    @property
    def user(self) -> User:
        return self.principal.user

    def allows(self, action: str) -> bool:
        if not roles.role_allows(self.role, action):
            return False
        token = self.principal.api_token
        return token is None or action == roles.Action.READ or token.scope == ApiToken.Scope.READ_WRITE

    def require(self, action: str) -> None:
        if not roles.role_allows(self.role, action):
            raise errors.PermissionDenied(f"Your role ({self.role}) does not allow this")
        if not self.allows(action):
            raise errors.PermissionDenied("This API token is read-only")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.AuthenticationFailed("Sign in: send 'Authorization: Bearer <token>'")
    return value.strip()


def _principal_from_api_token(raw: str) -> Principal:
    token = ApiToken.objects.select_related("user", "tenant").filter(token_hash=secret_hash(raw)).first()
    now = timezone.now()
    if (
        token is None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or not token.user.is_active
    ):
        raise errors.AuthenticationFailed("The API token is not valid")
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return Principal(user=token.user, api_token=token)


def _principal(request: Request) -> Principal:
    raw = _bearer(request)
    if raw.startswith(api_services.API_TOKEN_PREFIX + "_"):
        return _principal_from_api_token(raw)
    user = User.objects.filter(pk=jwt.access_token_user_id(raw), is_active=True).first()
    if user is None:
        raise errors.AuthenticationFailed("The access token is not valid")
    return Principal(user=user)


# The caller is resolved inside each dependency rather than as a dependency of its own: every sync
# dependency is one more trip through the thread pool's queue, which under load is most of a request's wait.


@db_bound
def current_user_session(request: Request) -> Principal:
    """For endpoints about the person (tokens, organizations): API tokens are tenant-bound and refused here."""
    principal = _principal(request)
    if principal.api_token is not None:
        raise errors.PermissionDenied("Personal access tokens only reach their own tenant's data")
    return principal


@db_bound
def tenant_context(request: Request, tenant: str = Path(description="Tenant slug or id")) -> TenantContext:
    principal = _principal(request)
    membership = tenancy_selectors.membership_get(user=principal.user, tenant_ref=tenant)
    if principal.api_token is not None and principal.api_token.tenant_id != membership.tenant_id:
        raise errors.NotFound("No such tenant")
    ops_context.bind(tenant=membership.tenant, user=principal.user)
    token = principal.api_token
    etag.check_version_tag(request, tenant_id=membership.tenant_id, role=membership.role, user_id=principal.user.pk,
                           token_id=token.pk if token is not None else None)
    return TenantContext(principal=principal, tenant=membership.tenant, role=membership.role)
