"""Response compression for the whole process: Brotli when the client accepts it, else gzip, else none.

Only bodies of at least `minimum_size` bytes are compressed (below that the headers cost more than
they save), never a body that already has a Content-Encoding (WhiteNoise's pre-compressed static
files), a partial (206) response, or a media type that is compressed already (images, fonts, zip).
Streamed bodies (exports) are compressed chunk by chunk, flushed after each chunk so the client
gets them as they come. The gzip side and those rules are Starlette's; this module adds the Brotli
responder and the choice between the two.
"""

from __future__ import annotations

import brotli
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

BROTLI_QUALITY = 5  # on the fly: close to gzip -9's speed, smaller output; static files are done at 11


def accepts_brotli(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header value lists "br" with a weight above zero."""
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() != "br":
            continue
        weight = params.strip().lower()
        if weight.startswith("q="):
            try:
                return float(weight[2:]) > 0
            except ValueError:
                return False
        return True
    return False


class BrotliResponder(IdentityResponder):
    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int, *, quality: int) -> None:
        super().__init__(app, minimum_size)
        self._compressor = brotli.Compressor(quality=quality)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        compressed = self._compressor.process(body)
        return compressed + (self._compressor.flush() if more_body else self._compressor.finish())


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, *, minimum_size: int = 1024, quality: int = BROTLI_QUALITY) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.quality = quality
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and accepts_brotli(Headers(scope=scope).get("accept-encoding", "")):
            await BrotliResponder(self.app, self.minimum_size, quality=self.quality)(scope, receive, send)
            return
        await self.gzip(scope, receive, send)
