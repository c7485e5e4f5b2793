"""Where read-only aggregates read: the read replica when DATABASE_REPLICA_URL configures one.

Only selectors that can live with the replica's lag use it (dashboard aggregates and reports, which
are cached per tenant anyway); everything that reads to decide a write stays on the primary. Inside
a transaction on the primary the caller reads the primary too, so a service sees its own writes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"


def read_alias() -> str:
    """The database alias an aggregate should read from."""
    if REPLICA not in settings.DATABASES or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA
