"""A tenant's exchange rates: writing them, and which one a report converts with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.ledger import exchange_rates
from coffer.ledger.models import ExchangeRate
from tests import factories


@pytest.fixture
def tenant(db):
    return factories.organization(factories.user())


def add(tenant, day, source, target, rate):
    return exchange_rates.rate_create(tenant=tenant, actor=None, date=day, from_currency=source, to_currency=target,
                                      rate=rate)


def test_a_rate_is_created_changed_and_deleted_with_an_audit_entry_each(tenant):
    rate = add(tenant, dt.date(2024, 1, 31), "usd", "EUR", "0.9200")
    assert (rate.from_currency, rate.to_currency, rate.rate) == ("USD", "EUR", Decimal("0.92"))
    exchange_rates.rate_update(tenant=tenant, actor=None, rate_id=rate.pk, changes={"rate": "0.93"})
    assert ExchangeRate.objects.get(pk=rate.pk).rate == Decimal("0.93")
    exchange_rates.rate_delete(tenant=tenant, actor=None, rate_id=rate.pk)
    assert not ExchangeRate.objects.filter(pk=rate.pk).exists()
    assert list(AuditEntry.objects.filter(tenant=tenant, action__startswith="exchange_rate").order_by("created_at")
                .values_list("action", flat=True)) == ["exchange_rate.create", "exchange_rate.update", "exchange_rate.delete"]


@pytest.mark.parametrize("source, target, rate, field", [
    ("USD", "USD", "1", "to_currency"),
    ("USD", "EUR", "0", "rate"),
    ("USD", "EUR", "-1.2", "rate"),
    ("USD", "EUR", "1.12345678901", "rate"),  # 11 places
    ("USD", "EUR", "NaN", "rate"),
    ("USD", "EUR", "abc", "rate"),
    ("XXY", "EUR", "1", "from_currency"),
])
def test_bad_rates_are_refused_and_nothing_is_written(tenant, source, target, rate, field):
    with pytest.raises(errors.ValidationError) as raised:
        add(tenant, dt.date(2024, 1, 1), source, target, rate)
    assert field in raised.value.field_errors
    assert not ExchangeRate.objects.filter(tenant=tenant).exists()


def test_one_rate_per_pair_and_day(tenant):
    add(tenant, dt.date(2024, 1, 1), "USD", "EUR", "0.9")
    with pytest.raises(errors.Conflict):
        add(tenant, dt.date(2024, 1, 1), "USD", "EUR", "0.8")
    moved = add(tenant, dt.date(2024, 1, 2), "USD", "EUR", "0.8")
    with pytest.raises(errors.Conflict):
        exchange_rates.rate_update(tenant=tenant, actor=None, rate_id=moved.pk, changes={"date": dt.date(2024, 1, 1)})
    add(tenant, dt.date(2024, 1, 1), "EUR", "USD", "1.1")  # the other direction is another pair


def test_the_latest_rate_on_or_before_the_day_is_used_in_either_direction(tenant, django_assert_num_queries):
    add(tenant, dt.date(2024, 1, 10), "USD", "EUR", "0.90")
    add(tenant, dt.date(2024, 1, 20), "USD", "EUR", "0.95")
    add(tenant, dt.date(2024, 1, 25), "EUR", "USD", "1.25")  # newer, the other way round: divide
    add(tenant, dt.date(2024, 1, 31), "GBP", "EUR", "1.15")
    other = factories.organization(factories.user())
    add(other, dt.date(2024, 1, 5), "USD", "EUR", "2")  # another tenant's rate is never ours
    wanted = [("USD", dt.date(2024, 1, 9)), ("USD", dt.date(2024, 1, 10)), ("USD", dt.date(2024, 1, 24)),
              ("USD", dt.date(2024, 1, 31)), ("GBP", dt.date(2024, 1, 31)), ("EUR", dt.date(2024, 1, 31))]
    with django_assert_num_queries(1):
        found = exchange_rates.rates_for(tenant=tenant, base="EUR", wanted=wanted)
    assert found[("USD", dt.date(2024, 1, 9))] is None
    assert found[("USD", dt.date(2024, 1, 10))].rate == Decimal("0.90")
    assert found[("USD", dt.date(2024, 1, 24))].rate_date == dt.date(2024, 1, 20)
    latest = found[("USD", dt.date(2024, 1, 31))]
    assert (latest.rate_date, latest.inverse) == (dt.date(2024, 1, 25), True)
    assert latest.convert(Decimal("100.00")) == Decimal("80.0000")
    assert found[("GBP", dt.date(2024, 1, 31))].convert(Decimal("-10.00")) == Decimal("-11.5000")
    assert ("EUR", dt.date(2024, 1, 31)) not in found  # the base needs no rate


def test_conversion_rounds_half_up_to_four_places(tenant):
    add(tenant, dt.date(2024, 1, 1), "EUR", "JPY", "3")
    key = ("JPY", dt.date(2024, 1, 1))
    rate = exchange_rates.rates_for(tenant=tenant, base="EUR", wanted=[key])[key]
    assert rate.convert(Decimal("1.00")) == Decimal("0.3333")
    assert rate.convert(Decimal("2.00")) == Decimal("0.6667")


def test_rates_are_paged_newest_first_and_filtered_by_currency(tenant):
    for day in range(1, 6):
        add(tenant, dt.date(2024, 1, day), "USD", "EUR", "0.9")
    add(tenant, dt.date(2024, 1, 3), "GBP", "EUR", "1.1")
    first, key = exchange_rates.rate_page(tenant=tenant, limit=4)
    rest, end = exchange_rates.rate_page(tenant=tenant, limit=4, after=key)
    assert end is None and len(first + rest) == 6
    days = [r.date for r in first + rest]
    assert days == sorted(days, reverse=True)
    gbp, _ = exchange_rates.rate_page(tenant=tenant, limit=10, currency="gbp")
    assert [r.from_currency for r in gbp] == ["GBP"]
