"""Password hashing: Argon2id with OWASP's recommended cost instead of Django's default.

Django's default (100 MiB, 2 passes, 8 lanes) holds 100 MiB per sign-in in progress: a web worker
signing in eight people at once grows by 800 MB, and on two cores the eight lanes only queue.
OWASP's Password Storage Cheat Sheet gives equivalent Argon2id settings; 19 MiB, 2 passes and one
lane is its first. Hashes keep Django's "argon2" format, so older hashes still verify and are
re-hashed with these settings at the next sign-in (`must_update`).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2Hasher(Argon2PasswordHasher):
    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1
