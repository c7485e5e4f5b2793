"""Exchange rates page (everyone reads the table and the base currency; admins and owners add and delete, as
in the API): bad input shown next to its field, refusals, other tenants' rates, paging, queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer.audit.models import AuditEntry
from coffer.ledger import exchange_rates
from coffer.ledger.models import ExchangeRate
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MANAGERS = ["owner", "admin"]
NOT_MANAGERS = ["member", "viewer"]
D = dt.date(2025, 3, 14)


def _rate(tenant, day=D, source="USD", target="EUR", rate="0.92") -> ExchangeRate:
    return exchange_rates.rate_create(tenant=tenant, actor=None, date=day, from_currency=source,
                                      to_currency=target, rate=rate)


def _state(tenant) -> tuple:
    return (sorted(ExchangeRate.objects.filter(tenant=tenant).values_list("pk", "date", "from_currency",
                                                                          "to_currency", "rate")),
            AuditEntry.objects.filter(tenant=tenant).count())


GOOD = {"date": "2025-03-14", "from_currency": "usd", "to_currency": "EUR", "rate": "0.9215"}


def test_everyone_sees_the_rates_newest_first_and_the_base_currency(org):
    _rate(org.tenant, D - dt.timedelta(days=1), rate="0.91")
    _rate(org.tenant, D, source="GBP", rate="1.1700000000")
    page = org.client("viewer").get(org.url("exchange-rates/")).content.decode()
    assert f'data-testid="base-currency">{org.tenant.base_currency}<' in page
    assert page.index("1 GBP = 1.17 EUR") < page.index("1 USD = 0.91 EUR")
    assert 'data-testid="rate-form"' not in page and "Delete" not in page


def test_without_rates_the_page_explains_them(org):
    page = org.client("viewer").get(org.url("exchange-rates/")).content.decode()
    assert 'data-testid="no-rates"' in page


def test_the_reports_page_links_to_the_rates(org):
    assert org.url("exchange-rates/") in org.client("viewer").get(org.url("reports/")).content.decode()


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_add_and_delete_a_rate(org, who):
    client = org.client(who)
    assert 'data-testid="rate-form"' in client.get(org.url("exchange-rates/")).content.decode()
    response = client.post(org.url("exchange-rates/new/"), GOOD, follow=True)
    assert response.redirect_chain == [(org.url("exchange-rates/"), 302)]
    row = ExchangeRate.objects.get(tenant=org.tenant)
    assert (row.date, row.from_currency, row.to_currency, row.rate) == (D, "USD", "EUR", Decimal("0.9215"))
    assert "Rate added: 1 USD = 0.9215 EUR" in response.content.decode()

    response = client.post(org.url(f"exchange-rates/{row.pk}/delete/"), **HTMX)
    assert response.status_code == 200 and response.content == b""  # htmx swaps the row out
    assert not ExchangeRate.objects.filter(tenant=org.tenant).exists()
    assert list(AuditEntry.objects.filter(tenant=org.tenant, action__startswith="exchange_rate.")
                .order_by("created_at").values_list("action", flat=True)) == [
        "exchange_rate.create", "exchange_rate.delete"]


def test_delete_without_htmx_redirects_with_a_message(org):
    row = _rate(org.tenant)
    response = org.client("admin").post(org.url(f"exchange-rates/{row.pk}/delete/"), follow=True)
    assert "Rate deleted." in response.content.decode()
    assert not ExchangeRate.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"from_currency": "XYZ"}, "from_currency", "Use an ISO 4217 code"),
    ({"to_currency": "EURO"}, "to_currency", "at most 3 characters"),
    ({"to_currency": "USD"}, "to_currency", "Same as from_currency"),
    ({"rate": "0"}, "rate", "Must be above 0."),
    ({"rate": "-1.5"}, "rate", "Must be above 0."),
    ({"rate": "abc"}, "rate", "Not a number."),
    ({"rate": "1.12345678901"}, "rate", "At most 10 decimal places."),
    ({"rate": ""}, "rate", "This field is required."),
    ({"date": "2025-02-30"}, "date", "Enter a valid date."),
])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(org, data, field, message):
    _rate(org.tenant, D - dt.timedelta(days=3))
    before = _state(org.tenant)
    response = org.client("admin").post(org.url("exchange-rates/new/"), {**GOOD, **data})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert message in response.content.decode()
    assert "1 USD = 0.92 EUR" in response.content.decode()  # the table is still there
    assert _state(org.tenant) == before


def test_a_second_rate_for_the_same_pair_and_day_is_refused_with_a_clear_message(org):
    _rate(org.tenant)
    before = _state(org.tenant)
    response = org.client("admin").post(org.url("exchange-rates/new/"), GOOD)
    assert response.status_code == 422
    assert response.context["form"].errors["date"] == ["Already has a rate."]
    assert "There is already a USD-&gt;EUR rate for 2025-03-14" in response.content.decode()
    assert _state(org.tenant) == before
    # the other direction, or another day, is a different rate
    assert org.client("admin").post(org.url("exchange-rates/new/"), {
        **GOOD, "from_currency": "EUR", "to_currency": "USD"}).status_code == 302


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_members_and_viewers_cannot_add_or_delete_rates(org, who):
    row = _rate(org.tenant)
    client, before = org.client(who), _state(org.tenant)
    assert client.post(org.url("exchange-rates/new/"), GOOD).status_code == 403
    assert client.post(org.url(f"exchange-rates/{row.pk}/delete/")).status_code == 403
    assert client.post(org.url(f"exchange-rates/{row.pk}/delete/"), **HTMX).status_code == 403
    assert _state(org.tenant) == before


def test_strangers_get_404_and_another_tenants_rates_are_never_listed_nor_deleted(org):
    other = factories.organization(org.people["outsider"], name="Other")
    theirs = _rate(other, rate="0.5555")
    mine = _rate(org.tenant)
    outsider = org.client("outsider")
    assert outsider.get(org.url("exchange-rates/")).status_code == 404
    assert outsider.post(org.url("exchange-rates/new/"), GOOD).status_code == 404
    assert outsider.post(org.url(f"exchange-rates/{mine.pk}/delete/")).status_code == 404
    admin = org.client("admin")
    assert "0.5555" not in admin.get(org.url("exchange-rates/")).content.decode()
    for rate_id in (theirs.pk, "not-a-uuid"):
        assert admin.post(org.url(f"exchange-rates/{rate_id}/delete/")).status_code == 404
    assert ExchangeRate.objects.filter(pk__in=[theirs.pk, mine.pk]).count() == 2


def test_the_table_is_paged_newest_first_and_each_page_runs_the_same_queries(org):
    ExchangeRate.objects.bulk_create(
        ExchangeRate(tenant=org.tenant, date=D - dt.timedelta(days=i), from_currency="USD", to_currency="EUR",
                     rate=Decimal("0.9") + Decimal(i) / 1000) for i in range(60))
    client = org.client("viewer")
    with count_queries() as first_queries:
        first = client.get(org.url("exchange-rates/"))
    page = first.content.decode()
    assert page.count('id="rate-') == 50 and "0.9 EUR" in page and 'data-testid="next-page"' in page
    more = page.split('data-testid="next-page"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(more).content.decode()
    assert second.count('id="rate-') == 10 and "0.959 EUR" in second and 'data-testid="next-page"' not in second
    ExchangeRate.objects.filter(tenant=org.tenant).delete()
    _rate(org.tenant)
    with count_queries() as one_row:
        client.get(org.url("exchange-rates/"))
    assert len(first_queries) == len(one_row)
    assert client.get(org.url("exchange-rates/?cursor=garbage")).status_code == 400
