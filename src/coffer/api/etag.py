"""Conditional GETs for the API: an ETag on every successful JSON read, 304 when the client has it.

The tag is a hash of the body the route produced (weak, `W/"…"`: the process gzips large answers
afterwards, and a weak tag stays valid across encodings). A matching `If-None-Match` gets 304 with no
body, so the client keeps its copy; equal tags mean equal bytes, so two people or two tenants can never
be told "not modified" about content that differs from what they hold. The route still runs (the
permission checks and the data are current on every request); what is saved is the transfer.

Only GET answers with status 200 and a JSON body are tagged; writes, errors and downloads pass through
untouched. Answers to a signed-in caller (Authorization header) are `Cache-Control: private, no-cache`
(revalidate every time, never in a shared cache) and `Vary: Authorization, Cookie`.
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_TAGGED_BYTES = 8 * 1024 * 1024  # larger answers stream through untagged rather than being held in memory


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

        async def tagging_send(message: Message) -> None:
            nonlocal start, size, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                if message["status"] != 200 or not content_type.startswith("application/json"):
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
