"""Cached template fragments: the SVG charts and report tables of the dashboard and reports pages
(`{% cache FRAGMENT_TIMEOUT name coffer.fragments <period> <currency> %}` in the templates).

Besides the tag's own arguments, a fragment's HTML depends on the tenant's data, on how the person
reads numbers and dates, and on "today" (the default periods end today). All of that is in `vary()`:
the tenant and its ledger version (ops/tenant_cache.py — a write gives every fragment a new key, so a
chart is never stale), the person's date and number formats, time zone and language, and today's date
in that time zone (and on the server). Old keys are never read again and expire on their own.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone, translation

from coffer.ops import tenant_cache
from coffer.web import formatting

FRAGMENT_TIMEOUT = 300  # seconds; templates repeat the number


def vary(tenant) -> str:
    return "|".join([
        str(tenant.pk), str(tenant_cache.version(tenant.pk)), formatting.active_formats(),
        timezone.get_current_timezone_name(), translation.get_language() or "", timezone.localdate().isoformat(),
        dt.date.today().isoformat(),  # the server's day, which cached selectors default to
    ])
