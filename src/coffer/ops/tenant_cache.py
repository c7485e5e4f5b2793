"""Per-tenant versioned cache for heavy read-only selectors (issue 7, "Caching").

Every tenant has a version number in the Django cache (Redis when REDIS_URL is set, local memory
otherwise). A write only has to bump the number: entries of older versions are never served again and
are overwritten or expire on their own; no key pattern is ever deleted.

An entry is stored as (version, result) under a key without the version, and read together with the
version in one round trip (MGET): it counts only if its version is the current one. A result computed
before a write and stored after the bump carries the old number, so it is never served.

When a bump happens:

- `post_save` / `post_delete` of the ledger models, of the tenant itself and of every audit entry (every
  service writes one), wired by `connect()` from the ops app;
- explicitly (`bump(tenant_id)`) after the set-based writes that send no signal: import commit and undo,
  bulk updates, rule runs, transfer links.

A bump runs on commit (`transaction.on_commit`): the new version appears only once the data is visible
to other connections, and a rolled-back write bumps nothing. Until its commit, the writing transaction
itself bypasses the cache for that tenant, so it reads its own writes and never caches uncommitted rows.
`post_delete` is left off the models deleted in bulk (transactions, their tags) on purpose: a delete
listener would make Django load every row before a queryset delete; their services bump explicitly or
through their audit entry.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import logging
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import signals

from coffer.ops import metrics

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300  # seconds; entries are also dropped by any write to the tenant's ledger
_PREFIX = "tcache"


def _version_key(tenant_id: Any) -> str:
    return f"{_PREFIX}:{tenant_id}:v"


def version(tenant_id: Any) -> int:
    """The tenant's current version. A missing one (never set, or evicted) starts at the current time in
    nanoseconds, so it can never fall back to a number whose entries are still cached."""
    key = _version_key(tenant_id)
    value = cache.get(key)
    if value is None:
        cache.add(key, time.time_ns(), timeout=None)
        value = cache.get(key)
    return int(value)


def _bump_now(tenant_id: Any) -> None:
    key = _version_key(tenant_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # missing: start a fresh, never used number
            cache.set(key, time.time_ns(), timeout=None)
    except Exception:  # the cache being down must not fail a committed write
        logger.exception("tenant cache version of %s not bumped", tenant_id)


class _Bump:
    """An on-commit callback that bumps one tenant (recognisable among the pending callbacks)."""

    def __init__(self, tenant_id: Any):
        self.tenant_id = str(tenant_id)

    def __call__(self) -> None:
        _bump_now(self.tenant_id)


def _pending(tenant_id: Any) -> bool:
    """Whether the current transaction has written to this tenant and not committed yet."""
    if not connection.in_atomic_block:
        return False
    wanted = str(tenant_id)
    for entry in getattr(connection, "run_on_commit", ()):
        func = entry[1]
        if isinstance(func, _Bump) and func.tenant_id == wanted:
            return True
    return False


def bump(tenant_id: Any) -> None:
    """Mark the tenant's ledger as changed: its version goes up when the current transaction commits
    (at once outside a transaction). Calling it several times in one transaction bumps once."""
    if tenant_id is None:
        return
    if _pending(tenant_id):
        return
    transaction.on_commit(_Bump(tenant_id))


# --- reading through the cache ------------------------------------------------------------


def _part(value: Any) -> str:
    if isinstance(value, models.Model):
        return f"{value._meta.label_lower}:{value.pk}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, bool, Decimal, uuid.UUID)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(map(_part, value)) if isinstance(value, (set, frozenset)) else map(_part, value)
        return "[" + ",".join(items) + "]"
    raise TypeError(f"{type(value).__name__} cannot be part of a cache key")


def key_for(tenant_id: Any, name: str, args: dict[str, Any]) -> str:
    text = "|".join(f"{k}={_part(v)}" for k, v in sorted(args.items()))
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return f"{_PREFIX}:{tenant_id}:{name}:{digest}"


def cached(tenant_id: Any, name: str, args: dict[str, Any], compute: Callable[[], Any],
           timeout: int = DEFAULT_TIMEOUT) -> Any:
    """`compute()`'s result, from the cache when it holds one for (name, args) at this tenant's version.

    `name` must be a fixed word (it is a metric label); `args` everything the result depends on besides
    the tenant's ledger. Inside a transaction that wrote to the tenant, computes without the cache."""
    if _pending(tenant_id):
        metrics.CACHE_REQUESTS.labels(name, "bypass").inc()
        return compute()
    key = key_for(tenant_id, name, args)
    version_key = _version_key(tenant_id)
    try:
        found = cache.get_many([version_key, key])
        current = int(found[version_key]) if version_key in found else version(tenant_id)
    except Exception:
        logger.exception("tenant cache unavailable for %s", name)
        metrics.CACHE_REQUESTS.labels(name, "error").inc()
        return compute()
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == current:
        metrics.CACHE_REQUESTS.labels(name, "hit").inc()
        return entry[1]
    metrics.CACHE_REQUESTS.labels(name, "miss").inc()
    result = compute()
    try:
        cache.set(key, (current, result), timeout=timeout)
    except Exception:
        logger.exception("tenant cache entry %s not stored", name)
    return result


def cached_selector(name: str, *, timeout: int = DEFAULT_TIMEOUT) -> Callable:
    """Decorator for a keyword-only selector taking `tenant=` (or `account=`): same signature, result
    cached per tenant version. Today's date is part of the key, for selectors whose default is "today"."""

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            if "tenant" in arguments:
                tenant_id = arguments["tenant"].pk
            else:
                tenant_id = arguments["account"].tenant_id
            arguments["__today"] = dt.date.today()
            return cached(tenant_id, name, arguments, lambda: func(*args, **kwargs), timeout)

        wrapper.uncached = func
        return wrapper

    return decorate


# --- signals ---------------------------------------------------------------------------------

_SAVED = ("Account", "Category", "Tag", "Transaction", "TransactionTag", "TransferDismissal", "Budget",
          "ExchangeRate", "Rule", "RuleTag", "ExpectedFee")
_DELETED = ("Account", "Category", "Tag", "Budget", "ExchangeRate", "Rule", "ExpectedFee")


def _on_tenant_row(sender, instance, **kwargs) -> None:
    bump(getattr(instance, "tenant_id", None))


def _on_tenant(sender, instance, **kwargs) -> None:
    bump(instance.pk)


def connect() -> None:
    """Wire the bumps to model signals (called once from the ops app's ready())."""
    from django.apps import apps

    for model_name in _SAVED:
        model = apps.get_model("ledger", model_name)
        signals.post_save.connect(_on_tenant_row, sender=model, dispatch_uid=f"tenant_cache.save.{model_name}")
    for model_name in _DELETED:
        model = apps.get_model("ledger", model_name)
        signals.post_delete.connect(_on_tenant_row, sender=model, dispatch_uid=f"tenant_cache.delete.{model_name}")
    signals.post_save.connect(_on_tenant_row, sender=apps.get_model("audit", "AuditEntry"),
                              dispatch_uid="tenant_cache.save.AuditEntry")
    signals.post_save.connect(_on_tenant, sender=apps.get_model("tenancy", "Tenant"),
                              dispatch_uid="tenant_cache.save.Tenant")
