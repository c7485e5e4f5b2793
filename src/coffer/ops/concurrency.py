"""At most N requests in progress per process; the others wait their turn, first come first served.

Django runs each request's sync code in a thread of its own and FastAPI runs sync routes in a
thread pool: unbounded, a burst means hundreds of threads fighting over the GIL and over a
connection pool that has `DB_POOL_MAX_SIZE` connections (the losers fail after DB_POOL_TIMEOUT),
each holding its request's memory (a password hash: 19 MiB). Bounded, the burst waits in a queue
that costs nothing and the requests inside run at full speed.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send


class ConcurrencyLimit:
    def __init__(self, app: ASGIApp, *, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit  # read at first use, so settings can change in tests
        # One semaphore per event loop: a semaphore is bound to the loop it first waited in.
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit())
        async with semaphore:
            await self.app(scope, receive, send)
