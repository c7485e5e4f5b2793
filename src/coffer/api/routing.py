"""An APIRouter whose sync endpoints are all `db_bound`, so route modules stay plain."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter

from coffer.api.db import db_bound


class CofferRouter(APIRouter):
    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = db_bound(endpoint)
        super().add_api_route(path, endpoint, **kwargs)
