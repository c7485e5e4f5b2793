"""Translating a service's domain error into form errors: the web layer's one place for it."""

from __future__ import annotations

from django import forms

from coffer import errors

# Service field names that differ from the forms'.
_FIELD_ALIASES = {"account_id": "account", "text": "q"}


def add_domain_errors(form: forms.Form, exc: errors.DomainError) -> None:
    """Put the error next to each field it names that the form shows, else on top of the form."""
    placed = False
    for field, message in exc.field_errors.items():
        name = _FIELD_ALIASES.get(field, field)
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
