"""Short-lived access tokens: HS256 JWTs. Only HS256 is accepted on decode, so `alg: none`
and algorithm-confusion tokens are refused by construction."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
from django.conf import settings

from coffer import errors

ALGORITHM = "HS256"
ISSUER = "coffer"
AUDIENCE = "coffer-api"


def access_token_issue(*, user_id: uuid.UUID, now: dt.datetime | None = None) -> tuple[str, int]:
    now = now or dt.datetime.now(dt.UTC)
    ttl = settings.JWT_ACCESS_TTL_SECONDS
    claims = {
        "sub": str(user_id),
        "typ": "access",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(seconds=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), ttl


def access_token_user_id(token: str) -> uuid.UUID:
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise errors.AuthenticationFailed("The access token has expired; refresh it") from None
    except jwt.PyJWTError:
        raise errors.AuthenticationFailed("The access token is not valid") from None
    if claims.get("typ") != "access":
        raise errors.AuthenticationFailed("The access token is not valid")
    try:
        return uuid.UUID(claims["sub"])
    except (ValueError, TypeError):
        raise errors.AuthenticationFailed("The access token is not valid") from None
