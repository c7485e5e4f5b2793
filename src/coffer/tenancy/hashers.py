"""Password hashing: Argon2id with OWASP's recommended cost instead of Django's default.

Django's default (100 MiB, 2 passes, 8 lanes) holds 100 MiB per sign-in in progress: a web worker
signing in eight people at once grows by 800 MB, and on two cores the eight lanes only queue.
OWASP's Password Storage Cheat Sheet gives equivalent Argon2id settings; 19 MiB, 2 passes and one
lane is its first. Hashes keep Django's "argon2" format, so older hashes still verify and are
re-hashed with these settings at the next sign-in (`must_update`).

A process hashes at most PASSWORD_HASH_CONCURRENCY passwords at once (default 2): hashing is pure CPU,
so more at once finishes none sooner, and each one in progress holds its 19 MiB. A storm of sign-ins
queues here instead of raising the worker's memory by 19 MiB per request in flight.
"""

import threading

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _hashing_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.PASSWORD_HASH_CONCURRENCY)
        return _slots


class Argon2Hasher(Argon2PasswordHasher):
    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1

    def encode(self, password, salt):
        with _hashing_slots():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with _hashing_slots():
            return super().verify(password, encoded)
