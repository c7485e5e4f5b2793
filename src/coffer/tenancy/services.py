"""Changing people, tenants and memberships. Each function is one transaction with its audit entry."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import validators as django_validators
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from coffer import errors, money
from coffer import secrets as coffer_secrets
from coffer.audit.services import audit_record, created_changes, deleted_changes, diff, snapshot
from coffer.ids import new_id
from coffer.ledger import rule_services as ledger_rule_services
from coffer.ledger import services as ledger_services
from coffer.tenancy import emails, roles
from coffer.tenancy.models import Invitation, Membership, Tenant, User
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
            ledger_services.category_tree_seed(tenant=tenant, actor=user)
            ledger_rule_services.rule_defaults_seed(tenant=tenant, actor=user)
    except IntegrityError:
        raise errors.Conflict("An account with this email address already exists", field_errors={"email": "Already registered."}) from None
    return user


def organization_create(*, actor: User, name: str, slug: str | None = None, base_currency: str = "EUR") -> Tenant:
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
            ledger_services.category_tree_seed(tenant=tenant, actor=actor)
            ledger_rule_services.rule_defaults_seed(tenant=tenant, actor=actor)
    except IntegrityError:
        raise errors.Conflict("This slug is taken", field_errors={"slug": "Already taken."}) from None
    return tenant


# --- the person -----------------------------------------------------------

USER_FIELDS = ["name", "time_zone", "date_format", "number_format"]
TENANT_FIELDS = ["name", "base_currency"]
MEMBERSHIP_FIELDS = ["user", "role"]
INVITATION_FIELDS = ["email", "role", "expires_at"]

logger = logging.getLogger(__name__)


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _unknown(changes: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise errors.ValidationError(
            f"Unknown field(s): {', '.join(unknown)}", field_errors={name: "Unknown field." for name in unknown}
        )


def _clean_name(value: Any, *, field: str = "name", required: bool = True) -> str:
    name = (value or "").strip() if isinstance(value, str) or value is None else None
    if name is None:
        raise errors.ValidationError(f"{field} must be text", field_errors={field: "Must be text."})
    if required and not name:
        raise errors.ValidationError(f"{field} cannot be empty", field_errors={field: "Required."})
    if len(name) > 150:
        raise errors.ValidationError(f"{field} is longer than 150 characters", field_errors={field: "At most 150 characters."})
    return name


def _clean_time_zone(value: Any) -> str:
    if not isinstance(value, str) or value not in _time_zones():
        raise errors.ValidationError(
            f"{value!r} is not a time zone", field_errors={"time_zone": "Use an IANA time zone such as Europe/Zurich."}
        )
    return value


def _clean_choice(value: Any, *, field: str, choices: type[models.TextChoices]) -> str:
    if value not in choices.values:
        raise errors.ValidationError(
            f"{value!r} is not a {field.replace('_', ' ')}", field_errors={field: f"One of: {', '.join(choices.values)}."}
        )
    return str(value)


def user_update(*, user: User, changes: dict[str, Any]) -> User:
    """The person's own name, time zone and display formats. Audited in their personal space; a no-op
    writes nothing."""
    _unknown(changes, set(USER_FIELDS))
    before = snapshot(user, USER_FIELDS)
    if "name" in changes:
        user.name = _clean_name(changes["name"], required=False)
    if "time_zone" in changes:
        user.time_zone = _clean_time_zone(changes["time_zone"])
    if "date_format" in changes:
        user.date_format = _clean_choice(changes["date_format"], field="date_format", choices=User.DateFormat)
    if "number_format" in changes:
        user.number_format = _clean_choice(changes["number_format"], field="number_format", choices=User.NumberFormat)
    changed = diff(before, snapshot(user, USER_FIELDS))
    if not changed:
        return user
    with transaction.atomic():
        user.save(update_fields=list(changed))
        personal = Tenant.objects.filter(
            kind=Tenant.Kind.PERSONAL, memberships__user=user, memberships__role=Role.OWNER
        ).first()
        if personal is not None:
            audit_record(tenant=personal, actor=user, action="user.update", instance=user, changes=changed)
    return user


def _personal_space(user: User) -> Tenant | None:
    return Tenant.objects.filter(kind=Tenant.Kind.PERSONAL, memberships__user=user, memberships__role=Role.OWNER).first()


def user_password_change(*, user: User, current_password: str, new_password: str) -> User:
    """A new password, given the current one. Other sessions end (their auth hash no longer matches);
    the caller keeps its own with django.contrib.auth.update_session_auth_hash."""
    if not user.check_password(current_password or ""):
        raise errors.ValidationError(
            "Your current password is not correct", field_errors={"current_password": "This is not your current password."}
        )
    try:
        password_validation.validate_password(new_password, user)
    except DjangoValidationError as exc:
        message = " ".join(exc.messages)
        raise errors.ValidationError(message, field_errors={"new_password": message}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        personal = _personal_space(user)
        if personal is not None:
            audit_record(tenant=personal, actor=user, action="user.password_change", instance=user)
    return user


EMAIL_CONFIRMATION_SALT = "coffer.tenancy.email-confirmation"
EMAIL_CONFIRMATION_MAX_AGE = 3 * 24 * 3600
EMAIL_CONFIRMATION_RESEND_SECONDS = 60


def email_confirmation_token(*, user: User) -> str:
    """A signed, expiring token naming the person and the address it confirms (no database row)."""
    return signing.dumps({"user": str(user.pk), "email": user.email}, salt=EMAIL_CONFIRMATION_SALT, compress=True)


def email_confirmation_send(*, user: User) -> None:
    """Email the confirmation link; at most once a minute per person."""
    if user.email_confirmed_at is not None:
        raise errors.Conflict("Your email address is already confirmed")
    if not cache.add(f"email-confirmation-sent:{user.pk}", 1, timeout=EMAIL_CONFIRMATION_RESEND_SECONDS):
        raise errors.Throttled("A confirmation email was sent less than a minute ago; check your inbox",
                               retry_after=EMAIL_CONFIRMATION_RESEND_SECONDS)
    try:
        emails.email_confirmation_send(email=user.email, token=email_confirmation_token(user=user),
                                       name=user.name or user.email)
    except OSError:  # smtplib.SMTPException is an OSError
        cache.delete(f"email-confirmation-sent:{user.pk}")
        logger.exception("confirmation email to user %s not sent", user.pk)
        raise errors.Conflict("The confirmation email could not be sent right now; try again in a minute") from None


def user_email_confirm(*, token: str) -> User:
    """Mark the address in the token as confirmed. Confirming twice changes nothing."""
    try:
        payload = signing.loads(token or "", salt=EMAIL_CONFIRMATION_SALT, max_age=EMAIL_CONFIRMATION_MAX_AGE)
    except signing.SignatureExpired:
        raise errors.ValidationError("This confirmation link has expired; send yourself a new one") from None
    except signing.BadSignature:
        raise errors.NotFound("This confirmation link is not valid") from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=_uuid(payload.get("user")), is_active=True).first()
        if user is None or user.email.lower() != str(payload.get("email", "")).lower():
            raise errors.NotFound("This confirmation link is not valid")
        if user.email_confirmed_at is None:
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
            personal = _personal_space(user)
            if personal is not None:
                audit_record(tenant=personal, actor=user, action="user.email_confirm", instance=user,
                             changes={"email_confirmed_at": [None, user.email_confirmed_at]})
    return user


# --- tenants --------------------------------------------------------------


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _locked_tenant(tenant: Tenant) -> Tenant:
    """Locks the tenant row, which serialises membership changes (so last-owner checks cannot race)."""
    locked = Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    if locked is None:
        raise errors.NotFound("No such tenant")
    return locked


def _actor_membership(*, tenant: Tenant, actor: User) -> Membership:
    membership = Membership.objects.filter(tenant=tenant, user=actor).first()
    if membership is None:
        raise errors.NotFound("No such tenant")
    return membership


def _require(role: str, action: str) -> None:
    if not roles.role_allows(role, action):
        raise errors.PermissionDenied(f"Your role ({role}) does not allow this")


def _last_owner() -> errors.Conflict:
    return errors.Conflict(
        "An organization always keeps at least one owner: make someone else owner first",
        field_errors={"role": "Last owner."},
    )


def tenant_update(*, tenant: Tenant, actor: User, changes: dict[str, Any]) -> Tenant:
    """Rename or change the base currency (admins and owners). A no-op writes nothing."""
    _unknown(changes, set(TENANT_FIELDS))
    with transaction.atomic():
        locked = _locked_tenant(tenant)
        _require(_actor_membership(tenant=locked, actor=actor).role, roles.Action.UPDATE_TENANT)
        before = snapshot(locked, TENANT_FIELDS)
        if "name" in changes:
            locked.name = _clean_name(changes["name"])
        if "base_currency" in changes:
            locked.base_currency = money.clean_currency(changes["base_currency"], field="base_currency")
        changed = diff(before, snapshot(locked, TENANT_FIELDS))
        if changed:
            locked.save(update_fields=list(changed))
            audit_record(tenant=locked, actor=actor, action="tenant.update", instance=locked, changes=changed)
    return locked


def tenant_delete(*, tenant: Tenant, actor: User) -> None:
    """Owners delete an organization with all its data, audit trail included (so the deletion is logged)."""
    if tenant.is_personal:
        raise errors.Conflict("A personal space cannot be deleted; it belongs to its person's account")
    with transaction.atomic():
        locked = _locked_tenant(tenant)
        _require(_actor_membership(tenant=locked, actor=actor).role, roles.Action.MANAGE_TENANT)
        locked.delete()
    logger.info("tenant %s (%s) deleted by user %s", tenant.pk, tenant.slug, actor.pk)


def _set_role(membership: Membership, role: str, *, tenant: Tenant, actor: User, action: str) -> None:
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(tenant=tenant, actor=actor, action=action, instance=membership, changes={"role": [before, role]})


def ownership_transfer(*, tenant: Tenant, actor: User, user_id: uuid.UUID | str) -> Membership:
    """The member `user_id` becomes owner; the owner handing over becomes admin."""
    with transaction.atomic():
        locked = _locked_tenant(tenant)
        current = _actor_membership(tenant=locked, actor=actor)
        _require(current.role, roles.Action.MANAGE_TENANT)
        target_id = _uuid(user_id)
        target = (
            Membership.objects.select_related("user").filter(tenant=locked, user_id=target_id).first()
            if target_id else None
        )
        if target is None:
            raise errors.ValidationError(
                "The new owner must already be a member of this organization",
                field_errors={"user_id": "Not a member of this organization."},
            )
        if target.pk == current.pk:
            raise errors.ValidationError("You already own this organization", field_errors={"user_id": "That is you."})
        if target.role != Role.OWNER:
            _set_role(target, Role.OWNER, tenant=locked, actor=actor, action="ownership.transfer")
        _set_role(current, Role.ADMIN, tenant=locked, actor=actor, action="ownership.transfer")
    return target


# --- memberships ----------------------------------------------------------


def _clean_role(value: Any) -> str:
    if value not in Role.values:
        raise errors.ValidationError(
            f"{value!r} is not a role", field_errors={"role": f"One of: {', '.join(Role.values)}."}
        )
    return str(value)


def _locked_member(*, tenant: Tenant, membership_id: uuid.UUID | str) -> Membership:
    member_id = _uuid(membership_id)
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("user")
        .filter(tenant=tenant, pk=member_id).first() if member_id else None
    )
    if membership is None:
        raise errors.NotFound("No such member")
    return membership


def _other_owner_exists(*, tenant: Tenant, membership: Membership) -> bool:
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER).exclude(pk=membership.pk).exists()


def membership_update(*, tenant: Tenant, actor: User, membership_id: uuid.UUID | str, role: str) -> Membership:
    """Change a member's role. Admins manage members but never owners, and cannot make owners."""
    role = _clean_role(role)
    with transaction.atomic():
        locked = _locked_tenant(tenant)
        actor_role = _actor_membership(tenant=locked, actor=actor).role
        _require(actor_role, roles.Action.MANAGE_MEMBERS)
        target = _locked_member(tenant=locked, membership_id=membership_id)
        if actor_role != Role.OWNER and Role.OWNER in (target.role, role):
            raise errors.PermissionDenied("Only an owner can change an owner's role or make someone owner")
        if target.role == role:
            return target
        if target.role == Role.OWNER and not _other_owner_exists(tenant=locked, membership=target):
            raise _last_owner()
        _set_role(target, role, tenant=locked, actor=actor, action="membership.update")
    return target


def membership_remove(*, tenant: Tenant, actor: User, membership_id: uuid.UUID | str) -> None:
    """Remove a member (admins; owners only by owners), or leave (anyone, except the last owner)."""
    with transaction.atomic():
        locked = _locked_tenant(tenant)
        actor_role = _actor_membership(tenant=locked, actor=actor).role
        target = _locked_member(tenant=locked, membership_id=membership_id)
        if target.user_id != actor.pk:
            _require(actor_role, roles.Action.MANAGE_MEMBERS)
            if target.role == Role.OWNER and actor_role != Role.OWNER:
                raise errors.PermissionDenied("Only an owner can remove an owner")
        if target.role == Role.OWNER and not _other_owner_exists(tenant=locked, membership=target):
            raise _last_owner()
        audit_record(tenant=locked, actor=actor, action="membership.delete", instance=target,
                     changes=deleted_changes(target, MEMBERSHIP_FIELDS))
        target.delete()


# --- invitations ----------------------------------------------------------


def _clean_email(value: Any) -> str:
    email = (value or "").strip().lower() if isinstance(value, str) else ""
    try:
        django_validators.validate_email(email)
    except DjangoValidationError:
        raise errors.ValidationError(f"{value!r} is not an email address", field_errors={"email": "Not an email address."}) from None
    return email


def invitation_create(*, tenant: Tenant, actor: User, email: str, role: str = Role.MEMBER) -> tuple[Invitation, str]:
    """An invitation and its one-time token (only its hash is stored; the token leaves in the email)."""
    email = _clean_email(email)
    role = _clean_role(role)
    if tenant.is_personal:
        raise errors.ValidationError(
            "A personal space cannot have other members; create an organization to share",
            field_errors={"email": "Personal spaces cannot be shared."},
        )
    with transaction.atomic():
        locked = _locked_tenant(tenant)
        actor_role = _actor_membership(tenant=locked, actor=actor).role
        _require(actor_role, roles.Action.MANAGE_MEMBERS)
        if role == Role.OWNER and actor_role != Role.OWNER:
            raise errors.PermissionDenied("Only an owner can invite an owner")
        if Membership.objects.filter(tenant=locked, user__email__iexact=email).exists():
            raise errors.Conflict(f"{email} is already a member", field_errors={"email": "Already a member."})
        now = timezone.now()
        if Invitation.objects.filter(
            tenant=locked, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).exists():
            raise errors.Conflict(
                f"An invitation to {email} is still open; revoke it to send a new one",
                field_errors={"email": "Already invited."},
            )
        token = coffer_secrets.secret_new("inv")
        invitation = Invitation.objects.create(
            tenant=locked, email=email, role=role, token_hash=coffer_secrets.secret_hash(token), invited_by=actor,
            created_at=now, expires_at=now + dt.timedelta(days=settings.INVITATION_TTL_DAYS),
        )
        audit_record(tenant=locked, actor=actor, action="invitation.create", instance=invitation,
                     changes=created_changes(invitation, INVITATION_FIELDS))
        transaction.on_commit(functools.partial(
            emails.invitation_send, email=email, token=token, tenant_name=locked.name, role=role,
            inviter_name=actor.name or actor.email, expires_at_text=f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC",
        ))
    return invitation, token


def invitation_revoke(*, tenant: Tenant, actor: User, invitation_id: uuid.UUID | str) -> Invitation:
    """Admins revoke open invitations (owner invitations only owners). Revoking twice changes nothing."""
    with transaction.atomic():
        actor_role = _actor_membership(tenant=tenant, actor=actor).role
        _require(actor_role, roles.Action.MANAGE_MEMBERS)
        pk = _uuid(invitation_id)
        invitation = Invitation.objects.select_for_update().filter(tenant=tenant, pk=pk).first() if pk else None
        if invitation is None:
            raise errors.NotFound("No such invitation")
        if invitation.role == Role.OWNER and actor_role != Role.OWNER:
            raise errors.PermissionDenied("Only an owner can revoke an owner invitation")
        if invitation.accepted_at is not None:
            raise errors.Conflict("This invitation was already accepted; remove the member instead")
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            audit_record(tenant=tenant, actor=actor, action="invitation.revoke", instance=invitation,
                         changes={"revoked_at": [None, invitation.revoked_at]})
    return invitation


def _open_invitation(token: str) -> Invitation:
    """The invitation behind a token, locked for this transaction so it can be used only once."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).select_related("tenant")
        .filter(token_hash=coffer_secrets.secret_hash(token or "")).first()
    )
    if invitation is None:
        raise errors.NotFound("This invitation link is not valid")
    if invitation.revoked_at is not None:
        raise errors.Conflict("This invitation was revoked; ask for a new one")
    if invitation.accepted_at is not None:
        raise errors.Conflict("This invitation has already been used")
    if invitation.expires_at <= timezone.now():
        raise errors.Conflict("This invitation has expired; ask for a new one")
    return invitation


def _join(invitation: Invitation, user: User) -> Membership:
    tenant = invitation.tenant
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise errors.Conflict("You are already a member of this organization")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(tenant=tenant, user=user, role=invitation.role)
    except IntegrityError:
        raise errors.Conflict("You are already a member of this organization") from None
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(tenant=tenant, actor=user, action="invitation.accept", instance=invitation,
                 changes={"accepted_at": [None, invitation.accepted_at]})
    audit_record(tenant=tenant, actor=user, action="membership.create", instance=membership,
                 changes=created_changes(membership, MEMBERSHIP_FIELDS))
    return membership


def invitation_accept(*, user: User, token: str) -> Membership:
    """A signed-in person accepts an invitation sent to their email address (case-insensitive)."""
    with transaction.atomic():
        invitation = _open_invitation(token)
        if invitation.email.lower() != user.email.lower():
            raise errors.PermissionDenied(
                "This invitation was sent to another email address; sign in with that address to accept it"
            )
        return _join(invitation, user)


def invitation_accept_new(*, token: str, password: str, name: str = "") -> Membership:
    """A new person signs up from an invitation: their account, their personal space and the membership."""
    with transaction.atomic():
        invitation = _open_invitation(token)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise errors.Conflict(
                "An account with this email address already exists: sign in and accept the invitation there",
                field_errors={"email": "Already registered."},
            )
        user = user_sign_up(email=invitation.email, password=password, name=name)
        user.email_confirmed_at = timezone.now()  # the invitation link reached this address
        user.save(update_fields=["email_confirmed_at"])
        return _join(invitation, user)
