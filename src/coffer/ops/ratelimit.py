"""API rate limits: per personal access token, per user, per client address; 429 with Retry-After.

Who is calling is decided before any database work, from the Authorization header alone:
a personal access token (`cof_…`) is limited by its hash, a valid access JWT by its user, and
everything else (no token, a bad or expired one) by the client address. Identities get
RATE_LIMIT_API, addresses RATE_LIMIT_ANON (either empty: no limit).

Counts live in Redis when REDIS_URL is set, in memcached when MEMCACHED_URL is (the cache's servers,
so every process and machine shares them), else in this process's memory. Sliding-window counters
(`limits`). If the store is unreachable the limit fails open: requests are served, and a warning is
logged once a minute.
The sign-in throttle (coffer.tenancy.signin) is separate and stays as it is.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time

import anyio
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from limits import RateLimitItem, parse
from limits.storage import MemcachedStorage, MemoryStorage, RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from coffer import errors
from coffer.api import jwt
from coffer.api import services as api_services
from coffer.ops import context
from coffer.ops import metrics
from coffer.secrets import secret_hash

logger = logging.getLogger(__name__)

STORE_TIMEOUT_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class Identity:
    scope: str  # "token", "user" or "address"
    key: str


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def identify(scope: Scope) -> Identity:
    scheme, _, raw = _header(scope, b"authorization").partition(" ")
    raw = raw.strip()
    if scheme.lower() == "bearer" and raw:
        if raw.startswith(api_services.API_TOKEN_PREFIX + "_"):
            return Identity("token", secret_hash(raw)[:40])
        try:
            user_id = jwt.access_token_user_id(raw)
        except errors.AuthenticationFailed:
            pass
        else:
            context.bind(user=user_id)
            return Identity("user", str(user_id))
    client = scope.get("client")
    return Identity("address", client[0] if client else "unknown")


def _limit(name: str, value: str) -> RateLimitItem | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like '600/minute' or '10 per second', not {value!r}") from None


class Limiter:
    def __init__(self, *, api: str, anon: str, redis_url: str = "", memcached_url: str = "", key_prefix: str = "coffer"):
        identity_limit = _limit("RATE_LIMIT_API", api)
        self.limits = {"token": identity_limit, "user": identity_limit, "address": _limit("RATE_LIMIT_ANON", anon)}
        self.shared = bool(redis_url or memcached_url)
        if memcached_url:
            hosts = ",".join(part.strip().removeprefix("memcached://") for part in memcached_url.split(","))
            storage = MemcachedStorage(
                f"memcached://{hosts}", key_prefix=f"{key_prefix}:ratelimit:",
                connect_timeout=STORE_TIMEOUT_SECONDS, timeout=STORE_TIMEOUT_SECONDS,
            )
        elif redis_url:
            # Django's RedisCache takes "primary,replica,..."; counts are written, so to the first.
            storage = RedisStorage(
                redis_url.split(",")[0].strip(), key_prefix=f"{key_prefix}:ratelimit",
                socket_timeout=STORE_TIMEOUT_SECONDS, socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            )
        else:
            storage = MemoryStorage()
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self._warned_at = 0.0

    def hit(self, identity: Identity) -> int | None:
        """Count one request; None if it may go on, else the seconds to wait (at least 1)."""
        item = self.limits[identity.scope]
        if item is None:
            return None
        try:
            if self.strategy.hit(item, identity.scope, identity.key):
                return None
            reset_at, _remaining = self.strategy.get_window_stats(item, identity.scope, identity.key)
        except Exception as exc:  # noqa: BLE001  (a limiter outage must not take the API down)
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                logger.warning("rate limits not enforced: storage unavailable (%s)", exc.__class__.__name__)
            return None
        return max(1, math.ceil(reset_at - time.time()))

    async def ahit(self, identity: Identity) -> int | None:
        if self.shared:  # a network round trip: not on the event loop
            return await anyio.to_thread.run_sync(self.hit, identity)
        return self.hit(identity)


_limiter: Limiter | None = None


def limiter() -> Limiter:
    """The process's limiter, built from settings on first use."""
    global _limiter
    if _limiter is None:
        _limiter = Limiter(
            api=settings.RATE_LIMIT_API, anon=settings.RATE_LIMIT_ANON, redis_url=settings.REDIS_URL,
            memcached_url=settings.MEMCACHED_URL, key_prefix=settings.CACHES["default"].get("KEY_PREFIX") or "coffer",
        )
    return _limiter


def reset() -> None:
    """Drop the process's limiter; the next request builds it again from settings. With memory
    storage that forgets every count (the test suite calls it between tests, as it clears the
    cache; with Redis the counts are in the cache's database and go with it)."""
    global _limiter
    _limiter = None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    global _limiter
    if setting in {"RATE_LIMIT_API", "RATE_LIMIT_ANON", "REDIS_URL", "MEMCACHED_URL", "CACHES"}:
        _limiter = None


class RateLimitMiddleware:
    """ASGI middleware of the API app; `limiter` defaults to the process's."""

    def __init__(self, app: ASGIApp, limiter: Limiter | None = None):
        self.app = app
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        identity = identify(scope)
        retry_after = await (self._limiter or limiter()).ahit(identity)
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        metrics.RATE_LIMITED.labels(identity.scope).inc()
        await _refuse(scope, send, retry_after)


async def _refuse(scope: Scope, send: Send, retry_after: int) -> None:
    body = json.dumps({
        "type": "https://coffer.local/problems/rate-limited",
        "title": "Too Many Requests",
        "status": 429,
        "detail": f"Too many requests. Try again in {retry_after} second{'s' if retry_after != 1 else ''}.",
        "instance": scope.get("path", ""),
    }).encode()
    await send({
        "type": "http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ],
    })
    await send({"type": "http.response.body", "body": body})
