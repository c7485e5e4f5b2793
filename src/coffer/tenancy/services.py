"""Changing people, tenants and memberships. Each function is one transaction with its audit entry."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from coffer import errors
from coffer.audit.services import audit_record, created_changes
from coffer.ids import new_id
from coffer.tenancy.models import Membership, Tenant, User
from coffer.tenancy.roles import Role


def _unique_slug(base: str) -> str:
    root = slugify(base)[:48].strip("-") or "space"
    candidate = root
    while Tenant.objects.filter(slug=candidate).exists():
        candidate = f"{root}-{new_id().hex[-6:]}"
    return candidate


def _validate_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise errors.ValidationError(" ".join(exc.messages), field_errors={"password": " ".join(exc.messages)}) from None


def user_sign_up(*, email: str, password: str, name: str = "") -> User:
    """A new person with their own personal space, of which they are the owner."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email=email).exists():
        raise errors.Conflict("An account with this email address already exists", field_errors={"email": "Already registered."})
    _validate_password(password, User(email=email, name=name))
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
            tenant = Tenant.objects.create(
                kind=Tenant.Kind.PERSONAL, name=name or email.split("@")[0], slug=_unique_slug(email.split("@")[0])
            )
            Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
            audit_record(tenant=tenant, actor=user, action="tenant.create", instance=tenant,
                         changes=created_changes(tenant, ["kind", "name", "slug"]))
    except IntegrityError:
        raise errors.Conflict("An account with this email address already exists", field_errors={"email": "Already registered."}) from None
    return user


def organization_create(*, actor: User, name: str, slug: str | None = None, base_currency: str = "EUR") -> Tenant:
    from coffer import money

    name = name.strip()
    if not name:
        raise errors.ValidationError("An organization needs a name", field_errors={"name": "Required."})
    base_currency = money.clean_currency(base_currency, field="base_currency")
    if slug:
        slug = slugify(slug)
        if not slug:
            raise errors.ValidationError("The slug must contain letters or digits", field_errors={"slug": "Invalid."})
        if Tenant.objects.filter(slug=slug).exists():
            raise errors.Conflict("This slug is taken", field_errors={"slug": "Already taken."})
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                kind=Tenant.Kind.ORGANIZATION, name=name, slug=slug or _unique_slug(name), base_currency=base_currency
            )
            Membership.objects.create(tenant=tenant, user=actor, role=Role.OWNER)
            audit_record(tenant=tenant, actor=actor, action="tenant.create", instance=tenant,
                         changes=created_changes(tenant, ["kind", "name", "slug", "base_currency"]))
    except IntegrityError:
        raise errors.Conflict("This slug is taken", field_errors={"slug": "Already taken."}) from None
    return tenant
