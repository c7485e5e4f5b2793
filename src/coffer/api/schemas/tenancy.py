"""People, tenants, members and invitations on the wire.

Patch schemas: every field defaults to None and Pydantic does not validate defaults, so an
absent field stays unset (`exclude_unset`) while an explicit `null` is refused as a wrong type.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from coffer.api.schemas import auth as auth_schemas
from coffer.api.schemas.common import Currency, InSchema, OutSchema

RoleName = Literal["owner", "admin", "member", "viewer"]
TenantKind = Literal["personal", "organization"]


class UserRefOut(OutSchema):
    id: uuid.UUID
    email: str
    name: str


class TenantMembershipOut(OutSchema):
    """A tenant the caller belongs to, with the caller's role in it."""

    id: uuid.UUID = Field(description="Tenant id")
    slug: str
    name: str
    kind: TenantKind
    base_currency: str
    role: RoleName
    membership_id: uuid.UUID

    @classmethod
    def of(cls, membership) -> dict:
        tenant = membership.tenant
        return cls(
            id=tenant.id, slug=tenant.slug, name=tenant.name, kind=tenant.kind, base_currency=tenant.base_currency,
            role=membership.role, membership_id=membership.id,
        ).model_dump(mode="json")


class MeOut(OutSchema):
    id: uuid.UUID
    email: str
    name: str
    time_zone: str
    memberships: list[TenantMembershipOut] = Field(description="Your first 100 tenants by name; GET /tenants pages all")
    more_memberships: bool = Field(description="True when you belong to more tenants than listed here")


class MePatch(InSchema):
    name: str = Field(None, max_length=150)
    time_zone: str = Field(None, min_length=1, max_length=64, description="IANA time zone, e.g. Europe/Zurich")


class OrganizationIn(InSchema):
    name: str = Field(min_length=1, max_length=150)
    slug: str | None = Field(None, min_length=1, max_length=64, description="Omit to derive one from the name")
    base_currency: Currency = "EUR"


class TenantOut(OutSchema):
    id: uuid.UUID
    slug: str
    name: str
    kind: TenantKind
    base_currency: str
    created_at: dt.datetime
    role: RoleName = Field(description="Your role in this tenant")


class TenantPatch(InSchema):
    name: str = Field(None, min_length=1, max_length=150)
    base_currency: Currency = None


class OwnershipTransferIn(InSchema):
    user_id: uuid.UUID = Field(description="A member of the organization who becomes its owner")


class MemberOut(OutSchema):
    id: uuid.UUID = Field(description="Membership id")
    role: RoleName
    user: UserRefOut
    created_at: dt.datetime


class MemberPatch(InSchema):
    role: RoleName


class InvitationIn(InSchema):
    email: auth_schemas.Email
    role: RoleName = "member"


class InvitationOut(OutSchema):
    id: uuid.UUID
    email: str
    role: RoleName
    status: Literal["open", "accepted", "revoked", "expired"]
    invited_by: UserRefOut | None
    created_at: dt.datetime
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None


class InvitationAcceptIn(InSchema):
    token: str = Field(min_length=1, max_length=200, description="The token from the invitation email's link")


class InvitationAcceptNewIn(InSchema):
    token: str = Field(min_length=1, max_length=200, description="The token from the invitation email's link")
    password: auth_schemas.Password
    name: str = Field("", max_length=150)


class InvitationAcceptedOut(OutSchema):
    user: UserRefOut
    tenant: TenantMembershipOut
