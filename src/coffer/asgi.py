"""The process: FastAPI answers /api, Django everything else; responses over 1 kB are compressed (Brotli or gzip)."""

from __future__ import annotations

import os
import re

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffer.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_app = get_asgi_application()

from coffer.api.app import create_app  # noqa: E402
from coffer.api.limits import BodySizeLimitMiddleware  # noqa: E402
from coffer.ops import compression, concurrency  # noqa: E402
from coffer.ops import middleware as ops_middleware  # noqa: E402

api_app = create_app()
WEB_MAX_BODY_BYTES = 4 * 1024 * 1024  # Django's form limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is 2.5 MB


async def _django(scope, receive, send):
    """Django sends header names as written ("Content-Length"); Starlette's compression looks them up in
    lower case, so without this it adds a second Content-Length, which browsers refuse."""

    async def send_lowercase(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [(name.lower(), value) for name, value in message["headers"]]}
        await send(message)

    await django_app(scope, receive, send_lowercase)


_WEB_UPLOAD_PATH = re.compile(r"^/t/[^/]+/imports/new/$")


def _web_body_limit(scope) -> int | None:
    """The web upload takes several statement files in one request; every other page gets a form's worth."""
    from django.conf import settings

    from coffer.web.forms_imports import MAX_FILES

    if scope.get("method") == "POST" and _WEB_UPLOAD_PATH.match(scope.get("path", "")):
        return MAX_FILES * settings.IMPORT_MAX_FILE_BYTES + 1024 * 1024
    return None


_django_limited = BodySizeLimitMiddleware(_django, max_bytes=WEB_MAX_BODY_BYTES, limit_for=_web_body_limit)


async def _dispatch(scope, receive, send):
    if scope["type"] == "lifespan":
        await api_app(scope, receive, send)
        return
    if scope["type"] in {"http", "websocket"} and (scope["path"] == "/api" or scope["path"].startswith("/api/")):
        await api_app(scope, receive, send)
        return
    await _django_limited(scope, receive, send)


def _request_concurrency() -> int:
    from django.conf import settings

    return settings.REQUEST_CONCURRENCY


# Outermost: request id, access log and request metrics for everything; then /readyz and /metrics (never
# queued behind the work); then at most REQUEST_CONCURRENCY requests of API and pages at once.
application = ops_middleware.RequestMiddleware(
    compression.CompressionMiddleware(
        ops_middleware.OpsEndpoints(concurrency.ConcurrencyLimit(_dispatch, limit=_request_concurrency)),
        minimum_size=1024,
    )
)
