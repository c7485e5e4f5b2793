"""Sign-up, sign-in tokens and personal access tokens on the wire.

Passwords are taken exactly as typed (no whitespace stripping), like the web login form.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from django.core import validators as django_validators
from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import AfterValidator, Field, StringConstraints

from coffer.api.schemas.common import InSchema, OutSchema

# Long enough for any passphrase, short enough that hashing it is not a denial of service.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=1024)]


def _email(value: str) -> str:
    try:
        django_validators.validate_email(value)
    except DjangoValidationError:
        raise ValueError("enter a valid email address") from None
    return value


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]


class SignUpIn(InSchema):
    email: Email
    password: Password
    name: str = Field("", max_length=150)


class UserOut(OutSchema):
    id: uuid.UUID
    email: str
    name: str


class TenantRefOut(OutSchema):
    id: uuid.UUID
    slug: str
    name: str
    kind: str


class SignUpOut(OutSchema):
    user: UserOut
    tenant: TenantRefOut


class TokenIn(InSchema):
    email: str = Field(min_length=1, max_length=254)
    password: Password


class RefreshIn(InSchema):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPairOut(OutSchema):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds the access token stays valid")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds the refresh token stays valid if unused")


class PatIn(InSchema):
    name: str = Field(min_length=1, max_length=100)
    tenant: str = Field(min_length=1, max_length=64, description="Slug or id of a tenant you belong to")
    scope: Literal["read", "read-write"]
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="Omit for a token that does not expire")


class PatOut(OutSchema):
    id: uuid.UUID
    name: str
    tenant: TenantRefOut
    scope: str
    prefix: str = Field(description="The token's first characters, to recognise it; never the secret")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None


class PatCreatedOut(PatOut):
    token: str = Field(description="The secret. Shown only in this response; store it now")
