"""API credentials: access/refresh token pairs and personal access tokens.

Refresh tokens rotate: each one works once and is replaced by a new one of the same
family. Presenting a token that was already used (or revoked) means someone else holds a
copy, so the whole family is revoked and both holders must sign in again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from coffer import errors
from coffer.api import jwt
from coffer.api.models import ApiToken, RefreshToken
from coffer.audit import services as audit_services
from coffer.ids import new_id
from coffer.secrets import secret_hash, secret_new
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy.models import User

API_TOKEN_PREFIX = "cof"  # coffer.api.deps tells personal access tokens from JWTs by it
REFRESH_TOKEN_PREFIX = "cofr"
DISPLAY_PREFIX_LENGTH = 12
INVALID_REFRESH = "The refresh token is not valid; sign in again"


@dataclasses.dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str = "bearer"


def _refresh_token_new(*, user: User, family: uuid.UUID | None, now: dt.datetime) -> tuple[str, int]:
    raw = secret_new(REFRESH_TOKEN_PREFIX)
    ttl = settings.JWT_REFRESH_TTL_SECONDS
    RefreshToken.objects.create(
        user=user, family=family or new_id(), token_hash=secret_hash(raw),
        created_at=now, expires_at=now + dt.timedelta(seconds=ttl),
    )
    return raw, ttl


def _family_revoke(*, family: uuid.UUID, now: dt.datetime) -> None:
    RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=now)


def token_pair_issue(*, user: User, family: uuid.UUID | None = None) -> TokenPair:
    """A new access token and a new refresh token (of a new family unless one is given)."""
    now = timezone.now()
    access, access_ttl = jwt.access_token_issue(user_id=user.pk, now=now)
    refresh, refresh_ttl = _refresh_token_new(user=user, family=family, now=now)
    return TokenPair(access_token=access, expires_in=access_ttl, refresh_token=refresh, refresh_expires_in=refresh_ttl)


def token_refresh(*, refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old one is spent. Reuse revokes the family."""
    now = timezone.now()
    token = RefreshToken.objects.select_related("user").filter(token_hash=secret_hash(refresh_token)).first()
    if token is None or token.expires_at <= now or not token.user.is_active:
        raise errors.AuthenticationFailed(INVALID_REFRESH)
    with transaction.atomic():
        # Conditional update: of two concurrent refreshes with one token, exactly one wins;
        # the loser is treated like any reuse.
        spent = RefreshToken.objects.filter(pk=token.pk, used_at__isnull=True, revoked_at__isnull=True).update(used_at=now)
        if spent:
            return token_pair_issue(user=token.user, family=token.family)
        _family_revoke(family=token.family, now=now)
    raise errors.AuthenticationFailed(INVALID_REFRESH)


def token_logout(*, refresh_token: str) -> None:
    """Revoke the refresh token's family. Unknown tokens are ignored, so logout is idempotent."""
    token = RefreshToken.objects.filter(token_hash=secret_hash(refresh_token)).first()
    if token is not None:
        _family_revoke(family=token.family, now=timezone.now())


# --- personal access tokens ----------------------------------------------

_AUDIT_FIELDS = ["user", "name", "scope", "prefix", "expires_at"]


def pat_create(
    *, user: User, tenant_ref: str, name: str, scope: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A token for one tenant the user belongs to; returns the token and its secret (shown once)."""
    name = name.strip()
    if not name:
        raise errors.ValidationError("A token needs a name", field_errors={"name": "Required."})
    if scope not in ApiToken.Scope.values:
        raise errors.ValidationError("The scope is read or read-write", field_errors={"scope": "read or read-write."})
    membership = tenancy_selectors.membership_get(user=user, tenant_ref=tenant_ref)
    raw = secret_new(API_TOKEN_PREFIX)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, tenant=membership.tenant, name=name, scope=scope,
            prefix=raw[:DISPLAY_PREFIX_LENGTH], token_hash=secret_hash(raw), created_at=now,
            expires_at=now + dt.timedelta(days=expires_in_days) if expires_in_days else None,
        )
        audit_services.audit_record(
            tenant=membership.tenant, actor=user, action="api_token.create", instance=token,
            changes=audit_services.created_changes(token, _AUDIT_FIELDS),
        )
    return token, raw


def pat_revoke(*, user: User, token_id: uuid.UUID) -> None:
    """Revoke one of the user's own tokens; revoking it again changes nothing."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise errors.NotFound("No such token")
        if token.revoked_at is not None:
            return
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_services.audit_record(
            tenant=token.tenant, actor=user, action="api_token.revoke", instance=token,
            changes={"revoked_at": [None, token.revoked_at]},
        )
