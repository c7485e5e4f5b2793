"""Signing in with email and password, shared by the API and the web login page.

Failed attempts are counted per account (the email typed, known or not) and per client
address in Django's cache, so every process sees the same counts when the cache is Redis.
A window opens with the first failure and lasts LOGIN_FAILURE_WINDOW_SECONDS; once either
count reaches its limit, sign-ins are refused until the window ends, even with the right
password. A success clears the account count, never the address count.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from coffer import errors
from coffer.tenancy.models import User

WRONG = "Email or password is wrong"


def _keys(kind: str, value: str) -> tuple[str, str]:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    base = f"signin:{kind}:{digest}"
    return f"{base}:count", f"{base}:until"


def _normalize(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


def _retry_after(counters: list[tuple[str, str, int]]) -> int | None:
    """Seconds until the earliest moment every exhausted counter has reset, or None if none is exhausted."""
    keys = [key for count_key, until_key, _ in counters for key in (count_key, until_key)]
    values = cache.get_many(keys)
    now = time.time()
    waits = [
        math.ceil(values.get(until_key, now + 1) - now)
        for count_key, until_key, limit in counters
        if values.get(count_key, 0) >= limit
    ]
    return max(1, *waits) if waits else None


def _record_failure(count_key: str, until_key: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    cache.add(until_key, time.time() + window, timeout=window)
    cache.add(count_key, 0, timeout=window)
    try:
        cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=window)


def sign_in(*, email: str, password: str, address: str) -> User:
    """The active user with this email and password; AuthenticationFailed (same message for an
    unknown email, a wrong password or an inactive account) or Throttled."""
    email = _normalize(email)
    account = _keys("account", email)
    client = _keys("address", address or "unknown")
    retry_after = _retry_after(
        [(*account, settings.LOGIN_FAILURES_PER_ACCOUNT), (*client, settings.LOGIN_FAILURES_PER_ADDRESS)]
    )
    if retry_after is not None:
        minutes = math.ceil(retry_after / 60)
        raise errors.Throttled(
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=retry_after,
        )

    user = User.objects.filter(email=email).first()
    if user is None:
        # Hash anyway, so an unknown email takes as long to refuse as a wrong password.
        User().set_password(password)
        ok = False
    else:
        ok = user.check_password(password) and user.is_active

    if not ok:
        _record_failure(*account)
        _record_failure(*client)
        raise errors.AuthenticationFailed(WRONG)
    cache.delete_many(list(account))
    return user
