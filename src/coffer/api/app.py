"""The FastAPI application served under /api."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio.to_thread
from django.conf import settings
from fastapi import FastAPI

from coffer.api import errors
from coffer.api import etag
from coffer.api.etag import ETagMiddleware
from coffer.api.limits import BodySizeLimitMiddleware
from coffer.api.routers import (
    accounts, audit, auth, imports, invitations, me, members, organizations, tokens, transactions,
)
from coffer.api.routers import categories, tags
from coffer.api.routers import workbooks
from coffer.api.routers import budgets, exchange_rates, reports, transfers
from coffer.api.routers import rules, suggestions
from coffer.api.routers import fees
from coffer.ops import ratelimit


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Sync routes and dependencies run in AnyIO's thread pool (40 threads by default). Each holds a
    # database connection while it runs, so more threads than the pool has connections only wait for
    # one (and fail after DB_POOL_TIMEOUT), and on a GIL more threads add switching, not work.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.REQUEST_CONCURRENCY
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Coffer API",
        version="1",
        description="Accounts, transactions and organizations of Coffer. Amounts are decimal strings.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    errors.install(app)
    app.add_exception_handler(etag.NotModified, etag.not_modified_response)
    # Before transactions: /transactions/suggestions must not be read as /transactions/{transaction_id}.
    app.include_router(suggestions.router, prefix="/api/v1")
    for module in (auth, me, tokens, organizations, members, invitations, accounts, transactions, audit, imports):
        app.include_router(module.router, prefix="/api/v1")
    for module in (categories, tags):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(workbooks.router, prefix="/api/v1")
    for module in (transfers, budgets, reports, exchange_rates):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(rules.router, prefix="/api/v1")
    app.include_router(fees.router, prefix="/api/v1")
    app.add_middleware(ETagMiddleware)  # innermost: tags the body the route produced
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.API_MAX_BODY_BYTES, limit_for=imports.upload_body_limit
    )
    app.add_middleware(ratelimit.RateLimitMiddleware)  # outermost: refused before the body is read
    return app
