"""Public identifiers: time-ordered UUIDs (version 7), so ids sort by creation."""

import secrets
import struct
import uuid

import uuid6

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62


def new_id() -> uuid.UUID:
    return uuid.UUID(int=uuid6.uuid7().int)


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` version-7 ids in increasing order, for bulk writes (new_id costs ~5 us each).

    They share one millisecond, reserved through uuid6 so ids made before and after still sort
    around them, and carry a counter from a random start in the 74 bits below the timestamp
    (RFC 9562 §6.2, method 1): increasing within the call, random across calls.
    """
    if count <= 0:
        return []
    millis = uuid6.uuid7().int >> 80
    start = secrets.randbits(40)  # leaves room above for any count a chunk can have
    base = millis << 80 | _VERSION_7 | _VARIANT_RFC
    # 12 bits of rand_a and the 30 high bits of rand_b hold the counter, 32 random bits follow.
    return [
        uuid.UUID(int=base | (counter >> 30) << 64 | (counter & 0x3FFFFFFF) << 32 | low)
        for counter, (low,) in zip(range(start, start + count),
                                   struct.iter_unpack(">I", secrets.token_bytes(4 * count)))
    ]
