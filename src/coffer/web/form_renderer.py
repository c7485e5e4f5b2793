"""Form widgets drawn in Python for the templates every form repeats most: `<select>` and `<input>`.

Django draws each `<option>` through two template includes: the category select (60 options) cost 4 ms,
and the transactions page has two of them besides its other fields. These functions write the markup
Django's own widget templates write, character for character (tests/web/test_form_renderer.py compares
them on every form); every other widget template goes through Django's renderer as before.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

_WIDGETS = "django/forms/widgets/"
_OPTION = _WIDGETS + "select_option.html"


def _text(value: Any) -> str:
    """`{{ value }}`: localized, then escaped unless already safe."""
    return conditional_escape(str(localize(value)))


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`."""
    return conditional_escape(value)


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html"""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html"""
    value = f' value="{_formatted(widget["value"])}"' if widget["value"] is not None else ""
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select(widget: dict[str, Any]) -> str | None:
    """django/forms/widgets/select.html with select_option.html for each option."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION:
                return None
            parts.append(f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                         f'{_text(option["label"])}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


# Each of these templates is `{% include "django/forms/widgets/input.html" %}`. (The renderer strips what
# a widget template gives; an option's include keeps its line break.)
_INPUTS = ("checkbox", "color", "date", "datetime", "email", "file", "hidden", "number", "password", "search",
           "tel", "text", "time", "url")
_DRAWN = {
    **{f"{_WIDGETS}{name}.html": _input for name in (*_INPUTS, "input")},
    f"{_WIDGETS}select.html": _select,
}


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        draw = _DRAWN.get(template_name)
        if draw is not None:
            html = draw(context["widget"])
            if html is not None:
                return mark_safe(html)
        return super().render(template_name, context, request)
