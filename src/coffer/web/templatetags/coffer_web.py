from __future__ import annotations

import re

from django import template
from django.urls import NoReverseMatch, reverse

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


_ID_SAFE = re.compile(r"[A-Za-z0-9._-]+")  # no "~": an id must never look like a marker
_NO_SHORTCUT = object()


@register.simple_tag(takes_context=True)
def row_url(context, view_name: str, **kwargs) -> str:
    """`{% url %}` for a link repeated on every row of a table, with the same result.

    reverse() costs about 0.1 ms; five links on fifty rows were a third of the transactions page. The
    keyword arguments named `*_id` are the row's own; the URL is reversed once per page with markers in
    their place and filled in per row by string replacement. An id that would need quoting, or a pattern
    whose converter refuses the marker, takes the plain reverse()."""
    ids = {name: str(value) for name, value in kwargs.items() if name.endswith("_id")}
    fixed = tuple(sorted((name, str(value)) for name, value in kwargs.items() if name not in ids))
    # The outermost render's own state: every `{% include %}` of a row starts an empty one of its own.
    shapes = context.render_context.dicts[0].setdefault("coffer_row_url", {})
    key = (view_name, fixed, tuple(sorted(ids)))
    if key not in shapes:
        markers = {name: f"~row{index}~" for index, name in enumerate(sorted(ids))}
        try:
            url = reverse(view_name, kwargs={**dict(fixed), **markers})
        except NoReverseMatch:
            url = None
        unique = url is not None and all(url.count(marker) == 1 for marker in markers.values())
        shapes[key] = (url, markers) if unique else _NO_SHORTCUT
    shape = shapes[key]
    if shape is _NO_SHORTCUT or not all(_ID_SAFE.fullmatch(value) for value in ids.values()):
        return reverse(view_name, kwargs=kwargs)
    url, markers = shape
    for name, marker in markers.items():
        url = url.replace(marker, ids[name])
    return url
