"""The process: FastAPI answers /api, Django everything else; responses over 1 kB are gzipped."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffer.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_app = get_asgi_application()

from starlette.middleware.gzip import GZipMiddleware  # noqa: E402

from coffer.api.app import create_app  # noqa: E402

api_app = create_app()


async def _django(scope, receive, send):
    """Django sends header names as written ("Content-Length"); Starlette's GZip looks them up in
    lower case, so without this it adds a second Content-Length, which browsers refuse."""

    async def send_lowercase(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [(name.lower(), value) for name, value in message["headers"]]}
        await send(message)

    await django_app(scope, receive, send_lowercase)


async def _dispatch(scope, receive, send):
    if scope["type"] == "lifespan":
        await api_app(scope, receive, send)
        return
    if scope["type"] in {"http", "websocket"} and (scope["path"] == "/api" or scope["path"].startswith("/api/")):
        await api_app(scope, receive, send)
        return
    await _django(scope, receive, send)


application = GZipMiddleware(_dispatch, minimum_size=1024)
