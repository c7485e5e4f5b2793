"""Idempotency-Key for POST creates: the same key and body get the first answer again.

The create and the record of its answer commit in ONE transaction, so either both
exist or neither does. Two requests racing with the same key both run the create, but
the unique (user, key) constraint lets only one commit; the loser's transaction rolls
back (its create with it) and it replays the winner's answer. Keys are per user and
expire after IDEMPOTENCY_TTL_SECONDS. Only successful answers are remembered: a
refused request can be retried with the same key once it is fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from coffer import errors
from coffer.api.models import IdempotencyRecord
from coffer.tenancy.models import User

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"

Call = Callable[[], tuple[int, Any]]


def body_hash(payload: BaseModel | Any) -> str:
    """Hash of the parsed body, so key order and whitespace do not make two bodies differ."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _clean_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.ValidationError(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters",
            field_errors={HEADER: "Invalid key."},
        )
    return key


def _live_record(*, user: User, key: str) -> IdempotencyRecord | None:
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    expired_before = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    if record is not None and record.created_at < expired_before:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return None
    return record


def _replay(record: IdempotencyRecord, *, method: str, path: str, request_hash: str) -> tuple[int, Any, bool]:
    if (record.method, record.path, record.request_hash) != (method, path, request_hash):
        raise errors.Conflict(
            f"This {HEADER} was already used for a different request; use a new key for a new request",
            field_errors={HEADER: "Used for a different request."},
        )
    return record.status_code, record.response_body, True


def run(*, key: str | None, user: User, method: str, path: str, request_hash: str, call: Call) -> tuple[int, Any, bool]:
    """(status, body, replayed). Without a key, just `call()`."""
    if key is None:
        status, body = call()
        return status, body, False
    key = _clean_key(key)
    record = _live_record(user=user, key=key)
    if record is None:
        try:
            with transaction.atomic():
                status, body = call()
                IdempotencyRecord.objects.create(
                    user=user, key=key, method=method, path=path, request_hash=request_hash,
                    status_code=status, response_body=body,
                )
            return status, body, False
        except (IntegrityError, errors.DomainError):
            # A concurrent request with this key may have committed first: then our create was
            # rolled back (or refused, e.g. as a duplicate name) and its answer is the answer.
            record = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if record is None:
                raise
    return _replay(record, method=method, path=path, request_hash=request_hash)


def respond(*, key: str | None, user: User, method: str, path: str, payload: BaseModel, call: Call) -> JSONResponse:
    """`run` for a JSON route: hashes the parsed payload and marks replays with a header."""
    status, body, replayed = run(
        key=key, user=user, method=method, path=path, request_hash=body_hash(payload), call=call
    )
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)
