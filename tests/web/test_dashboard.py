"""The dashboard: totals per currency, the income/expenses chart, recent imports — bounded, tenant-scoped."""

from __future__ import annotations

import datetime as dt
import re

from coffer.imports.models import ImportBatch
from tests import factories


def _this_month(day: int = 2) -> dt.date:
    today = dt.date.today()
    return today.replace(day=min(day, today.day))


def test_the_chart_shows_this_tenants_income_and_expenses_of_the_month(org):
    account = factories.account(org.tenant, name="Main", currency="EUR")
    factories.transaction(account, amount="2500.00", booked_on=_this_month(1))
    factories.transaction(account, amount="-120.40", booked_on=_this_month(1))
    stranger = factories.organization(org.people["outsider"])
    factories.transaction(factories.account(stranger, currency="EUR"), amount="-777.77", booked_on=_this_month(1))

    page = org.client("viewer").get(org.url()).content.decode()
    assert "Income and expenses, last 12 months" in page
    month = _this_month().strftime("%B %Y")
    assert f"{month}: income 2,500.00 EUR" in page and f"{month}: expenses 120.40 EUR" in page
    assert "777.77" not in page
    assert len(re.findall(r'<rect class="bar (?:in|out)"', page)) == 24  # 12 months, two bars each


def test_with_two_currencies_the_chart_switches_between_them_and_ignores_unknown_ones(org):
    factories.transaction(factories.account(org.tenant, name="E", currency="EUR"), amount="-10.00",
                          booked_on=_this_month())
    factories.transaction(factories.account(org.tenant, name="U", currency="USD"), amount="33.00",
                          booked_on=_this_month())
    client = org.client("member")
    assert "expenses 10.00 EUR" in client.get(org.url()).content.decode()
    usd = client.get(org.url() + "?currency=USD").content.decode()
    assert "income 33.00 USD" in usd and 'aria-current="true">USD' in usd
    assert "expenses 10.00 EUR" in client.get(org.url() + "?currency=<b>XXX").content.decode()


def test_recent_imports_are_listed_with_their_status_and_escaped_names(org):
    account = factories.account(org.tenant, name="Main")
    ImportBatch.objects.create(tenant=org.tenant, account=account, file_name="<script>x</script>.csv",
                               file_path="x", sha256="0" * 64, status=ImportBatch.Status.REVIEW, rows_total=7)
    page = org.client("viewer").get(org.url()).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;.csv" in page and "<script>x" not in page
    assert "7 rows" in page and "status-review" in page


def test_the_dashboard_runs_a_bounded_number_of_queries_whatever_the_history(org, django_assert_max_num_queries):
    accounts = [factories.account(org.tenant, name=f"A{i}", currency=("EUR", "USD")[i % 2]) for i in range(6)]
    for i in range(60):
        factories.transaction(accounts[i % 6], amount=str(i - 30), booked_on=dt.date.today() - dt.timedelta(days=i * 6))
    client = org.client("owner")
    with django_assert_max_num_queries(14):
        assert client.get(org.url()).status_code == 200


def test_the_account_page_draws_its_balance_over_the_months(org):
    account = factories.account(org.tenant, name="Main", currency="EUR", opening_balance="50.00")
    factories.transaction(account, amount="25.00", booked_on=_this_month())
    page = org.client("viewer").get(org.url(f"accounts/{account.pk}/")).content.decode()
    assert "Balance over the last 12 months" in page
    assert f"{_this_month().strftime('%B %Y')}: 75.00 EUR" in page
    assert page.count('<circle class="dot"') == 12
