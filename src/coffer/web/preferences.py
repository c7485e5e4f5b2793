"""Each request of a signed-in person runs in their time zone and with their date and number formats,
so every page (and every `money`, `day` and `when` in a template) shows what they chose on their profile."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from coffer.web import formatting


class UserPreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        active = user is not None and user.is_authenticated
        if active:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            formatting.activate(date_format=user.date_format, number_format=user.number_format)
        try:
            return self.get_response(request)
        finally:
            if active:
                timezone.deactivate()
                formatting.deactivate()
