"""`{% row_url %}` gives exactly what `{% url %}` gives, for every row, whatever the ids look like."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch

from tests import factories

ROWS = """{% load coffer_web %}{% for row in rows %}{% row_url name tenant_slug=slug transaction_id=row %}
{% endfor %}"""
PLAIN = """{% for row in rows %}{% url name tenant_slug=slug transaction_id=row %}
{% endfor %}"""


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize("name", ["web:transaction_edit", "web:transaction_delete", "web:transaction_transfer"])
def test_every_row_gets_the_url_reverse_gives(name):
    rows = [uuid.uuid4() for _ in range(5)] + [42, "01a2349a-074f-7f97-8cee-a82e97227fb0"]
    assert render(ROWS, name=name, slug="acme", rows=rows) == render(PLAIN, name=name, slug="acme", rows=rows)


def test_ids_that_need_quoting_and_ids_that_look_like_the_marker_come_out_as_reverse_makes_them():
    rows = ["a b", "ümlaut", "x?y=1", "~row0~", "%7E", "ok-1"]
    shortcut = render(ROWS, name="web:transaction_edit", slug="acme", rows=rows)
    assert shortcut == render(PLAIN, name="web:transaction_edit", slug="acme", rows=rows)
    assert "/t/acme/transactions/a%20b/edit/" in shortcut
    assert "/t/acme/transactions/~row0~/edit/" in shortcut


def test_an_id_spelled_like_another_ids_marker_is_not_filled_in_twice():
    source = """{% load coffer_web %}{% row_url 'web:transaction_transfer_link' tenant_slug='acme' transaction_id=row %}"""
    plain = """{% url 'web:transaction_transfer_link' tenant_slug='acme' transaction_id=row %}"""
    for row in ["~row0~", "~row1~", "a~b"]:
        assert render(source, row=row) == render(plain, row=row)


def test_fixed_arguments_are_part_of_the_shape_so_two_tenants_in_one_page_never_mix():
    source = """{% load coffer_web %}{% row_url 'web:account_detail' tenant_slug='one' account_id='a1' %}
{% row_url 'web:account_detail' tenant_slug='two' account_id='a2' %}"""
    assert render(source).split() == ["/t/one/accounts/a1/", "/t/two/accounts/a2/"]


def test_the_transactions_page_reverses_each_row_link_once_not_once_per_row(org, monkeypatch):
    from coffer.web.templatetags import coffer_web

    account = factories.account(org.tenant, name="Current")
    made = [factories.transaction(account, amount=f"-{n}.00", booked_on=dt.date(2024, 3, n)) for n in range(1, 21)]
    calls = []
    real = coffer_web.reverse
    monkeypatch.setattr(coffer_web, "reverse", lambda name, **kw: calls.append(name) or real(name, **kw))

    page = org.client("member").get(org.url("transactions/")).content.decode()

    assert all(f'href="{org.url(f"transactions/{row.pk}/edit/")}"' in page for row in made)
    assert sorted(set(calls)) == sorted(calls)  # each link shape reversed once for the twenty rows


def test_an_unknown_view_fails_like_url_does():
    with pytest.raises(NoReverseMatch):
        render(ROWS, name="web:no_such_page", slug="acme", rows=["r1"])
