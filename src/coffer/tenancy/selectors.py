"""Reading people, tenants and memberships."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.utils import timezone

from coffer import errors
from coffer import secrets as coffer_secrets
from coffer.tenancy import access_cache
from coffer.tenancy.models import Invitation, Membership, Tenant, User


def _tenant_filter(tenant_ref: str) -> dict:
    try:
        return {"tenant_id": uuid.UUID(tenant_ref)}
    except ValueError:
        return {"tenant__slug": tenant_ref}


def membership_get(*, user: User, tenant_ref: str) -> Membership:
    """The caller's membership in the tenant given by slug or id; NotFound when not a member
    (so a tenant the caller does not belong to looks exactly like one that does not exist).
    Cached per person (tenancy/access_cache.py), "not a member" included."""
    membership = access_cache.cached(user.pk, "tenancy.membership", {"tenant_ref": str(tenant_ref)}, lambda: (
        Membership.objects.select_related("tenant").filter(user=user, **_tenant_filter(tenant_ref)).first()
    ))
    if membership is None:
        raise errors.NotFound("No such tenant")
    return membership


def memberships_of_user(*, user: User):
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__kind", "tenant__name", "tenant_id")


def tenant_members(*, tenant: Tenant):
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("created_at", "id")


def owner_count(*, tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, role="owner").count()


def tenant_invitations(*, tenant: Tenant):
    return Invitation.objects.filter(tenant=tenant).select_related("invited_by").order_by("-created_at", "-id")


# --- pages ----------------------------------------------------------------
# A page is fetched as `limit + 1` rows ordered by two keys; the extra row only tells whether
# there is a next page, whose key (a list of strings) the API turns into an opaque cursor.

MAX_PAGE_SIZE = 100
ME_MEMBERSHIPS_SHOWN = 100


def _bad_cursor() -> errors.ValidationError:
    return errors.ValidationError("The cursor is not valid", field_errors={"cursor": "Not a cursor from this API."})


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.ValidationError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", field_errors={"limit": f"Between 1 and {MAX_PAGE_SIZE}."}
        )


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        raise _bad_cursor() from None


def _datetime(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _bad_cursor() from None
    if parsed.tzinfo is None:
        raise _bad_cursor()
    return parsed


def _keyset(queryset: models.QuerySet, *, keys: tuple[str, str], descending: bool, after: tuple | None,
            limit: int) -> tuple[list, bool]:
    first, second = keys
    if after is not None:
        op = "lt" if descending else "gt"
        queryset = queryset.filter(
            models.Q(**{f"{first}__{op}": after[0]}) | models.Q(**{first: after[0], f"{second}__{op}": after[1]})
        )
    prefix = "-" if descending else ""
    rows = list(queryset.order_by(prefix + first, prefix + second)[: limit + 1])
    return rows[:limit], len(rows) > limit


def me_memberships(*, user: User) -> tuple[list[Membership], bool]:
    """The first ME_MEMBERSHIPS_SHOWN memberships of the person, and whether there are more (cached per
    person, like membership_get)."""
    rows = access_cache.cached(user.pk, "tenancy.memberships", {}, lambda: list(
        memberships_of_user(user=user)[: ME_MEMBERSHIPS_SHOWN + 1]
    ))
    return rows[:ME_MEMBERSHIPS_SHOWN], len(rows) > ME_MEMBERSHIPS_SHOWN


def tenant_page(*, user: User, limit: int, after: list[str] | None = None) -> tuple[list[Membership], list[str] | None]:
    """The person's memberships with their tenants, by tenant name."""
    _check_limit(limit)
    key = None
    if after is not None:
        if len(after) != 2:
            raise _bad_cursor()
        key = (after[0], _uuid(after[1]))
    queryset = Membership.objects.filter(user=user).select_related("tenant")
    rows, more = _keyset(queryset, keys=("tenant__name", "tenant_id"), descending=False, after=key, limit=limit)
    last = rows[-1] if more else None
    return rows, ([last.tenant.name, str(last.tenant_id)] if last else None)


def member_page(*, tenant: Tenant, limit: int, after: list[str] | None = None) -> tuple[list[Membership], list[str] | None]:
    """Members of the tenant in the order they joined."""
    _check_limit(limit)
    key = (_datetime(after[0]), _uuid(after[1])) if after is not None else None
    queryset = Membership.objects.filter(tenant=tenant).select_related("user")
    rows, more = _keyset(queryset, keys=("created_at", "id"), descending=False, after=key, limit=limit)
    last = rows[-1] if more else None
    return rows, ([last.created_at.isoformat(), str(last.id)] if last else None)


def member_get(*, tenant: Tenant, membership_id: uuid.UUID | str) -> Membership:
    try:
        pk = membership_id if isinstance(membership_id, uuid.UUID) else uuid.UUID(str(membership_id))
    except ValueError:
        raise errors.NotFound("No such member") from None
    membership = Membership.objects.select_related("user").filter(tenant=tenant, pk=pk).first()
    if membership is None:
        raise errors.NotFound("No such member")
    return membership


def invitation_page(*, tenant: Tenant, limit: int, after: list[str] | None = None) -> tuple[list[Invitation], list[str] | None]:
    """Invitations of the tenant (open, accepted, revoked and expired), newest first."""
    _check_limit(limit)
    key = (_datetime(after[0]), _uuid(after[1])) if after is not None else None
    queryset = Invitation.objects.filter(tenant=tenant).select_related("invited_by")
    rows, more = _keyset(queryset, keys=("created_at", "id"), descending=True, after=key, limit=limit)
    last = rows[-1] if more else None
    return rows, ([last.created_at.isoformat(), str(last.id)] if last else None)


def invitation_for_token(*, token: str) -> Invitation:
    """The invitation behind a one-time link (any status), with its tenant; NotFound for an unknown token."""
    invitation = (
        Invitation.objects.select_related("tenant", "invited_by")
        .filter(token_hash=coffer_secrets.secret_hash(token or "")).first()
    )
    if invitation is None:
        raise errors.NotFound("This invitation link is not valid")
    return invitation


def email_registered(*, email: str) -> bool:
    return User.objects.filter(email__iexact=(email or "").strip()).exists()


def invitation_status(invitation: Invitation, *, now: dt.datetime | None = None) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or timezone.now()):
        return "expired"
    return "open"
