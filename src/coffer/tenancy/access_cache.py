"""Per-person cache of membership look-ups (which tenants you are in, with which role).

Every API request and every tenant page asks "what is this person's membership in this tenant?" and
every page also lists the person's tenants for the switcher. Both answers are cached under a version
that belongs to the person (the scope `user:<id>` of `ops.tenant_cache`, so they get the same on-commit
bumps, the same bypass inside the writing transaction and the same hit/miss metrics).

A person's version goes up when:

- one of their memberships is created, saved (role change, ownership transfer) or deleted — including
  deletes that cascade from a deleted organization or person (`post_save` / `post_delete`);
- a tenant they belong to is saved (its name, slug or base currency travel with the cached membership);
- memberships or tenants are changed by a queryset (`update()`, `bulk_create()`): those send no signal,
  so `MembershipQuerySet` and `TenantQuerySet` bump the people concerned themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import signals

from coffer.ops import tenant_cache


def scope(user_id: Any) -> str:
    return f"user:{user_id}"


def bump_users(user_ids: Iterable[Any]) -> None:
    """The people's memberships changed: their cached look-ups are dropped when the transaction commits."""
    for user_id in set(user_ids):
        if user_id is not None:
            tenant_cache.bump(scope(user_id))


def bump_tenants(tenant_ids: Iterable[Any]) -> None:
    """The tenants changed: every member's cached look-ups are dropped when the transaction commits."""
    from coffer.tenancy.models import Membership

    tenant_ids = [pk for pk in tenant_ids if pk is not None]
    if tenant_ids:
        bump_users(Membership.objects.filter(tenant_id__in=tenant_ids).values_list("user_id", flat=True))


def cached(user_id: Any, name: str, args: dict[str, Any], compute):
    return tenant_cache.cached(scope(user_id), name, args, compute)


def _on_membership(sender, instance, **kwargs) -> None:
    bump_users([instance.user_id])


def _on_tenant(sender, instance, created: bool = False, **kwargs) -> None:
    if not created:  # a new tenant has no members yet; its first membership bumps its person
        bump_tenants([instance.pk])


def connect() -> None:
    """Wire the bumps to model signals (called once from the tenancy app's ready())."""
    from coffer.tenancy.models import Membership, Tenant

    signals.post_save.connect(_on_membership, sender=Membership, dispatch_uid="access_cache.save.Membership")
    signals.post_delete.connect(_on_membership, sender=Membership, dispatch_uid="access_cache.delete.Membership")
    signals.post_save.connect(_on_tenant, sender=Tenant, dispatch_uid="access_cache.save.Tenant")
