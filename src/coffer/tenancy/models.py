from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from coffer.ids import new_id
from coffer.tenancy.roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Signs in with an email address; there are no usernames."""

    class DateFormat(models.TextChoices):
        """How the web app shows dates to this person."""

        ISO = "iso", "2024-01-31"
        DMY = "dmy", "31/01/2024"
        MDY = "mdy", "01/31/2024"

    class NumberFormat(models.TextChoices):
        """How the web app shows amounts to this person: grouping and decimal mark."""

        COMMA_DOT = "1,234.56", "1,234.56"
        DOT_COMMA = "1.234,56", "1.234,56"
        SPACE_COMMA = "1 234,56", "1 234,56"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    date_format = models.CharField(max_length=8, choices=DateFormat.choices, default=DateFormat.ISO)
    number_format = models.CharField(max_length=12, choices=NumberFormat.choices, default=NumberFormat.COMMA_DOT)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email


class TenantQuerySet(models.QuerySet):
    def update(self, **kwargs):
        from coffer.tenancy import access_cache

        tenant_ids = list(self.values_list("pk", flat=True))
        updated = super().update(**kwargs)
        access_cache.bump_tenants(tenant_ids)  # no post_save for a queryset update
        return updated


class Tenant(models.Model):
    """Whom data belongs to: a person's own space or an organization."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal space"
        ORGANIZATION = "organization", "Organization"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=64, unique=True)
    base_currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return self.slug

    @property
    def is_personal(self) -> bool:
        return self.kind == self.Kind.PERSONAL


class MembershipQuerySet(models.QuerySet):
    """Queryset writes send no post_save: these bump the cached look-ups of the people concerned
    (tenancy/access_cache.py). Deletes need nothing: they send post_delete for each row."""

    def update(self, **kwargs):
        from coffer.tenancy import access_cache

        user_ids = list(self.values_list("user_id", flat=True))
        if "user" in kwargs or "user_id" in kwargs:
            new_user = kwargs.get("user_id", kwargs.get("user"))
            user_ids.append(getattr(new_user, "pk", new_user))
        updated = super().update(**kwargs)
        access_cache.bump_users(user_ids)
        return updated

    def bulk_create(self, objs, *args, **kwargs):
        from coffer.tenancy import access_cache

        created = super().bulk_create(objs, *args, **kwargs)
        access_cache.bump_users(obj.user_id for obj in created)
        return created


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user_per_tenant")]
        indexes = [models.Index(fields=["user", "tenant"], name="membership_user_tenant")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} in {self.tenant_id}"


class Invitation(models.Model):
    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_at"], name="invitation_tenant_created")]

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
