"""Logging set-up: JSON lines (production) or plain text (development), each with the request id,
tenant and user of the work in hand; and Sentry when SENTRY_DSN is set.

settings.py builds LOGGING with `logging_config(...)`, so this module imports nothing of Django.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pythonjsonlogger import json as jsonlogger
from pythonjsonlogger.core import RESERVED_ATTRS

from coffer.ops import context

CONTEXT_FIELDS = ("request_id", "tenant", "user_id")
FORMATS = ("json", "text")


class ContextFilter(logging.Filter):
    """Adds request_id, tenant and user_id (None when unknown) to every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = context.current()
        for field in CONTEXT_FIELDS:
            if getattr(record, field, None) is None:
                setattr(record, field, getattr(current, field, None) if current is not None else None)
        return True


class JsonFormatter(jsonlogger.JsonFormatter):
    """One JSON object per line: time, level, logger, message, the context fields, and any `extra`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        # Django's request logger passes the request object along, uvicorn a copy of each message
        # with terminal colours: neither belongs in a JSON line.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time", "color_message"])
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message [request_id=… tenant=… user=…]`, the bracket only with what is known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = [f"{field}={value}" for field in CONTEXT_FIELDS if (value := getattr(record, field, None))]
        if not known:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the bracket
        return f"{head} [{' '.join(known)}]{sep}{tail}"


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING dict for settings.py."""
    if log_format not in FORMATS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "coffer.ops.logconfig.ContextFilter"}},
        "formatters": {
            "json": {"()": "coffer.ops.logconfig.JsonFormatter"},
            "text": {"()": "coffer.ops.logconfig.TextFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["context"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # uvicorn's own handlers would print plain text; ours write every line the same way.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},  # coffer.access replaces it
        },
    }


# --- Sentry ---------------------------------------------------------------


def sentry_before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Tag each event with the request id and tenant of the work that raised it."""
    current = context.current()
    if current is None:
        return event
    tags = event.setdefault("tags", {})
    if current.request_id:
        tags["request_id"] = current.request_id
    if current.tenant:
        tags["tenant"] = current.tenant
    if current.user_id:
        event.setdefault("user", {}).setdefault("id", current.user_id)
    return event


def init_sentry(*, dsn: str, environment: str) -> bool:
    """Start the Sentry SDK when a DSN is configured; nothing is initialised (or sent) without one."""
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,  # no cookies, headers or bodies: amounts and names stay here
        before_send=sentry_before_send,
    )
    return True
