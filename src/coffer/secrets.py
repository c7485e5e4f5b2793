"""Random secrets handed out once and stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets as _secrets


def secret_new(prefix: str) -> str:
    return f"{prefix}_{_secrets.token_urlsafe(32)}"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
