"""Public identifiers: time-ordered UUIDs (version 7), so ids sort by creation."""

import uuid

import uuid6


def new_id() -> uuid.UUID:
    return uuid.UUID(int=uuid6.uuid7().int)
