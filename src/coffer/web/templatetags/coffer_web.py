from __future__ import annotations

from django import template

from coffer.web import formatting

register = template.Library()


@register.filter
def money(value):
    return formatting.money(value)


@register.filter
def sign(value) -> str:
    """"in", "out" or "zero": a CSS hook for colouring amounts."""
    if value is None or value == 0:
        return "zero"
    return "in" if value > 0 else "out"
