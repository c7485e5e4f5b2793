"""Cached chart fragments of the dashboard and reports: served from the cache while nothing changes, never
stale after a write, and never shared across tenants, periods or a person's display preferences.

Data is committed (transactional_db), so tenant versions are bumped on commit as in production."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.test import Client

from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Membership
from coffer.web import fragments
from tests import factories

CUSTOM = {"period": "custom", "start": "2024-01-01", "end": "2024-03-31"}


def _this_month() -> dt.date:
    return dt.date.today().replace(day=1)


def _chart(page: str) -> str:
    """The first SVG chart of the page."""
    return page[page.index("<svg"):page.index("</svg>")]


@pytest.fixture
def books(transactional_db):
    owner = factories.user(name="Owner")
    tenant = factories.organization(owner, name="Acme")
    account = factories.account(tenant, name="Main", currency="EUR")
    factories.transaction(account, amount="2500.00", booked_on=_this_month())
    factories.transaction(account, amount="-120.40", booked_on=_this_month())
    client = Client()
    client.force_login(owner)
    return {"owner": owner, "tenant": tenant, "account": account, "client": client, "url": f"/t/{tenant.slug}/"}


def test_the_dashboard_chart_is_served_from_the_cache_until_the_next_write(books):
    month = _this_month().strftime("%B %Y")
    page = books["client"].get(books["url"]).content.decode()
    assert f"{month}: expenses 120.40 EUR" in _chart(page)
    key = make_template_fragment_key("dashboard.cashflow", [fragments.vary(books["tenant"]), "EUR"])
    assert cache.get(key) is not None and f"{month}: expenses 120.40 EUR" in cache.get(key)

    factories.transaction(books["account"], amount="-9.60", booked_on=_this_month())

    chart = _chart(books["client"].get(books["url"]).content.decode())
    assert f"{month}: expenses 130.00 EUR" in chart and "120.40" not in chart


def test_the_spending_chart_follows_the_period_and_the_next_write(books):
    groceries = books["tenant"].categories.get(name="Groceries")
    factories.transaction(books["account"], amount="-40.00", booked_on=_this_month(), category_id=groceries.pk)
    client = books["client"]
    this_month = client.get(books["url"]).content.decode()
    assert "Food: 40.00 EUR" in this_month
    last_month = client.get(books["url"], {"period": "last_month"}).content.decode()
    assert "Food: 40.00 EUR" not in last_month  # another period, another fragment

    factories.transaction(books["account"], amount="-2.00", booked_on=_this_month(), category_id=groceries.pk)

    assert "Food: 42.00 EUR" in client.get(books["url"]).content.decode()


def test_the_reports_charts_show_a_write_on_the_next_render(books):
    account, client = books["account"], books["client"]
    reports = books["url"] + "reports/"
    factories.transaction(account, amount="-10.00", booked_on=dt.date(2024, 2, 10))
    first = client.get(reports, CUSTOM).content.decode()
    assert "February 2024: expenses 10.00 EUR" in first

    factories.transaction(account, amount="-5.00", booked_on=dt.date(2024, 2, 11))

    second = client.get(reports, CUSTOM).content.decode()
    assert "February 2024: expenses 15.00 EUR" in second and "expenses 10.00 EUR" not in second


def test_a_change_of_number_or_date_format_is_never_served_a_fragment_in_the_old_format(books):
    client = books["client"]
    assert "income 2,500.00 EUR" in _chart(client.get(books["url"]).content.decode())

    tenancy_services.user_update(user=books["owner"], changes={"number_format": "1.234,56"})

    chart = _chart(client.get(books["url"]).content.decode())
    assert "income 2.500,00 EUR" in chart and "2,500.00" not in chart


def test_a_person_in_another_time_zone_does_not_share_the_fragment(books):
    tenant = books["tenant"]
    other = factories.user(name="Far away")
    tenancy_services.user_update(user=other, changes={"time_zone": "Pacific/Kiritimati", "number_format": "1 234,56"})
    Membership.objects.create(tenant=tenant, user=other, role="viewer")
    books["client"].get(books["url"])  # the owner's fragment is cached
    client = Client()
    client.force_login(other)
    assert "income 2\u00a0500,00 EUR" in _chart(client.get(books["url"]).content.decode())


def test_another_tenant_never_gets_this_tenants_fragment(books):
    books["client"].get(books["url"])
    stranger = factories.user(name="Stranger")
    elsewhere = factories.organization(stranger, name="Elsewhere")
    account = factories.account(elsewhere, currency="EUR")
    factories.transaction(account, amount="-7.77", booked_on=_this_month())
    client = Client()
    client.force_login(stranger)

    chart = _chart(client.get(f"/t/{elsewhere.slug}/").content.decode())

    assert "expenses 7.77 EUR" in chart and "120.40" not in chart and "2,500.00" not in chart
