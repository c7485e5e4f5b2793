"""Coffer's form renderer draws `<select>` and `<input>` in Python: the markup must be exactly what Django's
widget templates draw, for every field of every form page, with errors, choices and awkward values."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.utils.safestring import mark_safe

from tests import factories

OURS = "coffer.web.form_renderer.FormRenderer"
DJANGOS = "django.forms.renderers.DjangoTemplates"


@pytest.fixture
def renderer(settings):
    def use(path: str) -> None:
        settings.FORM_RENDERER = path
        get_default_renderer.cache_clear()

    yield use
    get_default_renderer.cache_clear()


class Awkward(forms.Form):
    text = forms.CharField(initial='Tom & "Jerry" <b>', max_length=20, help_text="Help")
    safe = forms.CharField(initial=mark_safe("<i>kept</i>"), required=False)
    number = forms.DecimalField(initial="1234.50", required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, initial="x'y")
    agree = forms.BooleanField(required=False, initial=True)
    off = forms.CharField(disabled=True, initial="frozen", required=False)
    choice = forms.ChoiceField(choices=[("", "—"), ("Food", [("a", "Groceries & more"), ("b", 'Dining "out"')]),
                                        (1, 1000), ("c", "<Other>")], initial="b")
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")], initial=["x", "z"],
                                     required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="pw", required=False)
    email = forms.EmailField(required=False, widget=forms.EmailInput(attrs={"placeholder": "a@b", "data-x": True}))


@pytest.mark.parametrize("data", [None, {"text": "x" * 30, "choice": "nope", "many": ["q"], "number": "abc",
                                         "day": "2024-02-30", "hidden": "", "email": "not-an-email"}])
def test_every_widget_draws_exactly_what_djangos_templates_draw(renderer, data):
    renderer(DJANGOS)
    expected = Awkward(data).as_div()
    renderer(OURS)
    drawn = Awkward(data).as_div()
    assert drawn == expected
    assert "Tom &amp; &quot;Jerry&quot; &lt;b&gt;" in drawn or data is not None


_VOLATILE = re.compile(r'(name="csrfmiddlewaretoken" value=|nonce=|"X-CSRFToken": )"[^"]*"')

PAGES = ["transactions/", "transactions/new/", "accounts/new/", "categories/", "categories/new/", "rules/new/",
         "budgets/new/", "fees/new/", "exchange-rates/new/", "reports/", "imports/new/", "members/", "invitations/",
         "organization/settings/", "audit/"]


def test_every_form_page_is_the_same_with_either_renderer(org, renderer):
    account = factories.account(org.tenant, name='Main & "Co"')
    factories.transaction(account, amount="-5.00", description="<Coffee>")
    client = org.client("owner")

    def pages(path: str) -> dict[str, str]:
        renderer(path)
        return {page: _VOLATILE.sub(r'\1"…"', client.get(org.url(page)).content.decode()) for page in PAGES}

    expected, drawn = pages(DJANGOS), pages(OURS)
    for page in PAGES:
        assert drawn[page] == expected[page], page
    assert "<select" in drawn["transactions/"] and "<option" in drawn["transactions/new/"]


def test_invalid_posts_show_the_same_errors_with_either_renderer(org, renderer):
    factories.account(org.tenant, name="Main")
    client = org.client("owner")
    bad = {"account": "nope", "booked_on": "2024-13-01", "amount": "x", "description": "<b>", "category": "zz"}

    def post(path: str) -> str:
        renderer(path)
        return _VOLATILE.sub(r'\1"…"', client.post(org.url("transactions/new/"), bad).content.decode())

    assert post(OURS) == post(DJANGOS)
