"""What the process knows about the work in hand: request id, tenant, user, route, SQL spent.

One `RequestContext` per request (made by `coffer.ops.middleware`) or per background job,
held in a context variable. It is a mutable object on purpose: Django runs views, and FastAPI
runs dependencies and routes, in worker threads with a *copy* of the context, so a value set
there on the variable itself would never reach the access log written at the end of the request;
set on the shared object, it does. Log records, metrics and Sentry events all read it.

Importing this module must stay cheap and free of Django models: settings' logging filters use it.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import Iterator
from typing import Any


@dataclasses.dataclass(eq=False)
class RequestContext:
    request_id: str | None = None
    tenant: str | None = None
    user_id: str | None = None
    route: str | None = None
    sql_count: int = 0
    sql_seconds: float = 0.0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def add_sql(self, seconds: float) -> None:
        with self._lock:  # dependencies and the route body may run in different threads
            self.sql_count += 1
            self.sql_seconds += seconds


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("coffer_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


@contextlib.contextmanager
def scope(context: RequestContext) -> Iterator[RequestContext]:
    """Make `context` the current one for the block (a request, a job)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def _id(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "pk", value))


def bind(*, tenant: Any = None, user: Any = None) -> None:
    """Record the tenant and the user of the request in hand, once they are known (a model
    instance or an id). Called by the API's tenant dependency and the web's tenant pages;
    outside a request or job it does nothing."""
    context = _current.get()
    if context is None:
        return
    if tenant is not None:
        context.tenant = _id(tenant)
    if user is not None and getattr(user, "is_authenticated", True):
        context.user_id = _id(user)
