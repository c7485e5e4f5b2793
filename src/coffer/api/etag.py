"""Conditional GETs for the API: an ETag on every successful JSON read, 304 when the client has it.

Ledger reads (accounts, transactions, categories, tags, budgets, rates, fees, reports, rules, transfers)
are tagged without looking at the body: the tag is a hash of everything the answer depends on, read
before the route runs — the tenant's cache version (bumped on commit by every write to its ledger,
ops/tenant_cache.py), the caller, their role and token, the exact path and query, today's date and the
release. A request whose If-None-Match holds that tag gets its 304 from the tenant dependency, after
the caller's membership is checked and before the route queries or serialises anything. A write that
lands while the route runs makes the body newer than its tag, never older, so the next request just
gets a 200. Not with a read replica: reports read there and could trail the version.

Every other read is tagged with a hash of the body the route produced: equal tags mean equal bytes, so
two people or two tenants can never be told "not modified" about content that differs from what they
hold; the route runs, what is saved is the transfer. Tags are weak (`W/"…"`): the process compresses
large answers afterwards, and a weak tag stays valid across encodings.

Only GET answers with status 200 and a JSON body are tagged; writes, errors and downloads pass through
untouched. Answers to a signed-in caller (Authorization header) are `Cache-Control: private, no-cache`
(revalidate every time, never in a shared cache) and `Vary: Authorization, Cookie`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import re
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_TAGGED_BYTES = 8 * 1024 * 1024  # larger answers stream through untagged rather than being held in memory


_SCOPE_KEY = "coffer.etag"  # the version tag of this request, set by the tenant dependency
_VERSIONED_PATH = re.compile(
    r"^/api/v1/tenants/[^/]+/(accounts|transactions|categories|tags|budgets|exchange-rates|fees|reports|rules"
    r"|transfers)(/|$)"
)
try:
    _RELEASE = importlib.metadata.version("coffer")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover (running from a source tree)
    _RELEASE = "source"


class NotModified(Exception):
    def __init__(self, tag: str):
        super().__init__(tag)
        self.tag = tag


def not_modified_response(request: Request, exc: NotModified) -> Response:
    response = Response(status_code=304, headers={"etag": exc.tag})
    _cache_headers(response.headers, private=True)
    return response


def check_version_tag(request: Request, *, tenant_id: Any, role: str, user_id: Any, token_id: Any) -> None:
    """For a ledger GET: remember the version tag of this answer, or raise NotModified when the caller
    already holds it. Called by the tenant dependency, once the caller's membership is known."""
    from django.conf import settings

    from coffer.ops import replica, tenant_cache

    if request.method != "GET" or not _VERSIONED_PATH.match(request.url.path):
        return
    if replica.REPLICA in settings.DATABASES:
        return
    parts = (_RELEASE, tenant_cache.version(tenant_id), role, user_id, token_id, request.url.path,
             request.url.query, dt.date.today().isoformat())
    tag = 'W/"v' + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest() + '"'
    request.scope[_SCOPE_KEY] = tag
    sent = request.headers.get("if-none-match")
    if sent is not None and sent.strip() != "*" and if_none_match_matches(sent, tag):
        raise NotModified(tag)


def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def if_none_match_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): any listed tag with the same opaque part, or `*`."""
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(candidate) == wanted for candidate in header.split(",") if candidate.strip())


class ETagMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        private = "authorization" in request_headers
        if_none_match = request_headers.get("if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False  # not tagged: forward as it comes
        swallowing = False  # answered 304 already: the route's body goes nowhere

        async def tagging_send(message: Message) -> None:
            nonlocal start, size, passing, swallowing
            if swallowing:
                return
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                if message["status"] != 200 or not content_type.startswith("application/json"):
                    passing = True
                    await send(message)
                    return
                version_tag = scope.get(_SCOPE_KEY)
                if version_tag is not None:  # tagged before the route ran: no need to hold the body
                    headers = MutableHeaders(scope=message)
                    headers["etag"] = version_tag
                    _cache_headers(headers, private=private)
                    if if_none_match is not None and if_none_match_matches(if_none_match, version_tag):
                        swallowing = True
                        await send(_not_modified(message))
                        await send({"type": "http.response.body", "body": b""})
                        return
                    passing = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_TAGGED_BYTES and message.get("more_body", False):
                passing = True
                _cache_headers(MutableHeaders(scope=start), private=private)
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                return
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            etag = etag_for(body)
            headers = MutableHeaders(scope=start)
            headers["etag"] = etag
            _cache_headers(headers, private=private)
            if if_none_match is not None and if_none_match_matches(if_none_match, etag):
                await send(_not_modified(start))
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, tagging_send)


def _cache_headers(headers: MutableHeaders, *, private: bool) -> None:
    if not private:
        return
    headers.setdefault("cache-control", "private, no-cache")
    for name in ("Authorization", "Cookie"):
        headers.add_vary_header(name)


_KEPT_ON_304 = {b"etag", b"cache-control", b"vary", b"content-location", b"date", b"expires", b"x-request-id"}


def _not_modified(start: Message) -> Message:
    """The 304 keeps the headers a 200 would have carried about caching (RFC 9110 15.4.5), no content."""
    headers = [(name, value) for name, value in start.get("headers", []) if name.lower() in _KEPT_ON_304]
    return {"type": "http.response.start", "status": 304, "headers": headers}
