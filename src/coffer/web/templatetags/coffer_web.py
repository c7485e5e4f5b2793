from __future__ import annotations

from django import template

from coffer.web import formatting

register = template.Library()


@register.filter
def money(value):
    return formatting.money(value)


@register.filter(expects_localtime=True)
def day(value) -> str:
    """A date in the person's chosen order (a datetime: its day in their time zone)."""
    return formatting.day(value)


@register.filter(expects_localtime=True)
def when(value) -> str:
    """A moment in the person's time zone and date order, to the minute."""
    return formatting.moment(value)


@register.filter
def sign(value) -> str:
    """"in", "out" or "zero": a CSS hook for colouring amounts."""
    if value is None or value == 0:
        return "zero"
    return "in" if value > 0 else "out"
