"""Django ORM inside FastAPI, without leaking connections.

Django closes connections at the end of *its own* requests; FastAPI routes never
send that signal, and FastAPI runs each sync dependency and the route body in
thread-pool threads that may differ from each other. So every piece of sync code
that touches the ORM is wrapped by `db_bound`: it starts clean and closes the
connections *of the thread it ran in* before returning. With the PostgreSQL pool
"closing" hands the connection back to the pool; on SQLite it is a file handle.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import close_old_connections, connections

F = TypeVar("F", bound=Callable[..., Any])


def db_bound(func: F) -> F:
    if inspect.iscoroutinefunction(func):
        raise TypeError(f"{func.__qualname__} must be a plain def to use the ORM")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return wrapper  # type: ignore[return-value]
