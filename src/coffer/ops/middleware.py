"""The outermost layer of the process: request ids, access log, request metrics; /metrics and /readyz.

`RequestMiddleware` wraps everything in coffer.asgi. It takes a sane incoming X-Request-ID (or
makes a UUID), returns it on every response (API and web), keeps it with the tenant and user in
the request's context for every log line, then writes one access line and the request's metrics:
latency by route template and status, SQL statements and SQL time.

`OpsEndpoints` answers /readyz and /metrics before Django or FastAPI see the request (so a probe
needs no ALLOWED_HOSTS entry and costs no session); `RouteMiddleware` is the Django middleware
that tells the access log which URL pattern answered.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid

import anyio
from django.conf import settings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coffer.ops import context
from coffer.ops import health
from coffer.ops import metrics

access_logger = logging.getLogger("coffer.access")

HEADER = b"x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}  # probes and scrapes: access lines at DEBUG


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text = value.decode("latin-1").strip()
            return text if _SANE_ID.fullmatch(text) else None
    return None


def _route(scope: Scope, ctx: context.RequestContext) -> str:
    if ctx.route:
        return ctx.route
    # FastAPI keeps an included router's routes unprefixed ("/tenants/{tenant}/accounts") and
    # records the full template of the route it chose in its own corner of the scope.
    fastapi_scope = scope.get("fastapi")
    chosen = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    route = getattr(chosen, "path_format", None) or getattr(scope.get("route"), "path", None)
    if route:
        return route
    path = scope.get("path", "")
    if path in _QUIET_PATHS:
        return path
    if path.startswith(settings.STATIC_URL):
        return settings.STATIC_URL + "*"
    return metrics.UNMATCHED


class RequestMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or str(uuid.uuid4())
        header_value = request_id.encode()
        ctx = context.RequestContext(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, header_value)]}
            await send(message)

        with context.scope(ctx):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if scope["type"] == "http":
                    _finish(scope, ctx, status, time.perf_counter() - started)


def _finish(scope: Scope, ctx: context.RequestContext, status: int, seconds: float) -> None:
    route = _route(scope, ctx)
    method = scope.get("method", "GET")
    metrics.observe_request(
        method=method, route=route, status=status, seconds=seconds, sql_count=ctx.sql_count,
        sql_seconds=ctx.sql_seconds,
    )
    path = scope.get("path", "")
    duration_ms = round(seconds * 1000, 1)
    access_logger.log(
        logging.DEBUG if path in _QUIET_PATHS and status < 500 else logging.INFO,
        "%s %s %s %.1f ms", method, path, status, duration_ms,
        extra={
            "method": method, "route": route, "path": path, "status": status, "duration_ms": duration_ms,
            "sql_statements": ctx.sql_count, "sql_ms": round(ctx.sql_seconds * 1000, 1),
        },
    )


# --- /readyz and /metrics -------------------------------------------------


async def _respond(send: Send, status: int, body: bytes, content_type: str, headers=()) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *headers,
        ],
    })
    await send({"type": "http.response.body", "body": body})


def _bearer(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


class OpsEndpoints:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path == "/readyz" and scope["method"] in {"GET", "HEAD"}:
            ready, report = await anyio.to_thread.run_sync(health.readiness)
            await _respond(send, 200 if ready else 503, json.dumps(report).encode(), "application/json")
            return
        if path == "/metrics" and settings.METRICS_TOKEN:  # without a token /metrics does not exist (404 below)
            if not hmac.compare_digest(_bearer(scope).encode(), settings.METRICS_TOKEN.encode()):
                body = json.dumps({
                    "type": "https://coffer.local/problems/unauthorized", "title": "Unauthorized", "status": 401,
                    "detail": "Send 'Authorization: Bearer <METRICS_TOKEN>'",
                }).encode()
                await _respond(send, 401, body, "application/problem+json", [(b"www-authenticate", b"Bearer")])
                return
            body, content_type = await anyio.to_thread.run_sync(metrics.render)
            await _respond(send, 200, body, content_type)
            return
        await self.app(scope, receive, send)


# --- Django ---------------------------------------------------------------


class RouteMiddleware:
    """Django middleware: the URL pattern (not the path) for the access log and metrics, and the
    signed-in user when the view loaded it anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        ctx = context.current()
        if ctx is not None:
            match = getattr(request, "resolver_match", None)
            if match is not None and match.route:
                ctx.route = "/" + match.route
            user = request.__dict__.get("_cached_user")  # set by Django's auth only once something asked
            if user is not None and ctx.user_id is None:
                context.bind(user=user)
        return response
