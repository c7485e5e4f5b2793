"""Budgets pages (everyone reads, admins and owners manage) and the dashboard's "Budgets needing attention"
card: what each role sees and may do, refusals, other tenants' ids, bad input, escaping, queries."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from coffer.audit.models import AuditEntry
from coffer.ledger import budgets as ledger_budgets
from coffer.ledger.models import Budget, Category
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

MANAGERS = ["owner", "admin"]
READERS = ["member", "viewer"]
EVERYONE = MANAGERS + READERS


def _cat(tenant, name: str) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def _budget(tenant, name: str, amount: str, **kwargs) -> Budget:
    owner = tenant.memberships.get(role="owner").user
    return ledger_budgets.budget_create(tenant=tenant, actor=owner, category_id=_cat(tenant, name).pk, amount=amount,
                                        today=timezone.localdate(), **kwargs)


def _spend(account, category_name: str, amount: str) -> None:
    factories.transaction(account, amount=amount, booked_on=timezone.localdate(),
                          category_id=_cat(account.tenant, category_name).pk)


def _card(page: str, budget: Budget) -> str:
    found = page[page.rindex("<li", 0, page.index(f'id="budget-{budget.pk}"')):]
    return found[:found.index("</li>")]


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages._queued_messages]


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="1000")


# --- the list ---------------------------------------------------------------------------------------------


def test_each_budget_shows_spent_left_percent_projection_and_its_state(org, account):
    groceries = _budget(org.tenant, "Groceries", "100")
    restaurants = _budget(org.tenant, "Restaurants", "100")
    transport = _budget(org.tenant, "Transport", "100")
    _spend(account, "Groceries", "-85.50")  # 85.5% -> warning
    _spend(account, "Restaurants", "-130")  # over
    _spend(account, "Transport", "-10")
    _spend(account, "Transport", "4")  # a refund lowers spending

    page = org.client("viewer").get(org.url("budgets/")).content.decode()

    card = _card(page, groceries)
    assert 'data-testid="spent">85.50' in card and 'data-testid="left">14.50' in card
    assert 'data-testid="percent">85.5%' in card and "80%+ spent" in card and "budget-warning" in card
    card = _card(page, restaurants)
    assert "Over budget" in card and "budget-over" in card and 'data-testid="left">-30.00' in card
    assert 'class="spent" x="0" y="0" width="100.0"' in card  # the bar stops at its end
    card = _card(page, transport)
    assert "On track" in card and 'data-testid="spent">6.00' in card and 'data-testid="percent">6.0%' in card
    progress = ledger_budgets.budget_progress(tenant=org.tenant, budgets=[transport], on=timezone.localdate())[0]
    assert f'data-testid="projected">{progress.projected:.2f}' in card


@pytest.mark.parametrize("who", READERS)
def test_members_and_viewers_read_budgets_without_buttons_to_change_them(org, account, who):
    budget = _budget(org.tenant, "Groceries", "100")
    page = org.client(who).get(org.url("budgets/")).content.decode()
    assert "Groceries" in page and "Admins and owners change budgets." in page
    assert "New budget" not in page and f"/budgets/{budget.pk}/edit/" not in page and "/delete/" not in page


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_get_the_buttons(org, account, who):
    budget = _budget(org.tenant, "Groceries", "100")
    page = org.client(who).get(org.url("budgets/")).content.decode()
    assert "New budget" in page
    assert f"/budgets/{budget.pk}/edit/" in page and f"/budgets/{budget.pk}/delete/" in page


def test_without_budgets_the_page_explains_them(org):
    page = org.client("admin").get(org.url("budgets/")).content.decode()
    assert 'data-testid="no-budgets"' in page and "Create the first budget" in page
    page = org.client("viewer").get(org.url("budgets/")).content.decode()
    assert 'data-testid="no-budgets"' in page and "Create the first budget" not in page


def test_the_list_runs_a_bounded_number_of_queries_whatever_the_number_of_budgets(org, account):
    client = org.client("viewer")
    _budget(org.tenant, "Groceries", "100")
    _spend(account, "Groceries", "-5")
    client.get(org.url("budgets/"))
    with count_queries() as few:
        assert client.get(org.url("budgets/")).status_code == 200
    for name in ("Restaurants", "Transport", "Housing", "Utilities", "Health"):
        _budget(org.tenant, name, "50", period="quarterly", rollover=True)
        _spend(account, name, "-7")
    with count_queries() as many:
        assert client.get(org.url("budgets/")).status_code == 200
    assert len(many) == len(few) and len(many) <= 15


def test_names_are_escaped(org, account):
    evil = Category.objects.create(tenant=org.tenant, name="<script>x()</script>", kind="expense")
    ledger_budgets.budget_create(tenant=org.tenant, actor=org.people["owner"], category_id=evil.pk, amount="5",
                                 today=timezone.localdate())
    page = org.client("viewer").get(org.url("budgets/")).content.decode()
    assert "<script>x()" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page


# --- create, edit, delete -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_create_a_budget(org, who):
    client = org.client(who)
    form = client.get(org.url("budgets/new/")).content.decode()
    groceries = _cat(org.tenant, "Groceries")
    assert f'value="{groceries.pk}"' in form and f'value="{org.tenant.base_currency}"' in form
    salary = Category.objects.filter(tenant=org.tenant, kind="income").first()
    assert f'value="{salary.pk}"' not in form  # only expense categories

    response = client.post(org.url("budgets/new/"), {
        "category_id": str(groceries.pk), "amount": "250.00", "period": "quarterly", "currency": "usd",
        "rollover": "on",
    })
    assert response.status_code == 302 and _messages(response) == ["Budget for “Groceries” created."]
    budget = Budget.objects.get(tenant=org.tenant)
    assert (budget.category, budget.amount, budget.period, budget.currency, budget.rollover) == (
        groceries, Decimal("250.00"), "quarterly", "USD", True)
    assert budget.starts_on.day == 1 and budget.starts_on.month in (1, 4, 7, 10)
    assert AuditEntry.objects.filter(action="budget.create", tenant=org.tenant).count() == 1


@pytest.mark.parametrize("data, field, message", [
    ({"amount": "0"}, "amount", "Must be above 0."),
    ({"amount": "-5"}, "amount", "Ensure this value is greater than or equal to 0."),
    ({"amount": "abc"}, "amount", "Enter a number."),
    ({"currency": "XXQ"}, "currency", "Use an ISO 4217 code such as EUR or USD."),
    ({"category_id": ""}, "category_id", "This field is required."),
    ({"category_id": "not-a-category"}, "category_id", "Select a valid choice."),
    ({"period": "weekly"}, "period", "Select a valid choice."),
    ({"starts_on": "2024-13-45"}, "starts_on", "Enter a valid date."),
])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(org, data, field, message):
    good = {"category_id": str(_cat(org.tenant, "Groceries").pk), "amount": "10", "period": "monthly",
            "currency": "EUR"}
    response = org.client("admin").post(org.url("budgets/new/"), {**good, **data})
    assert response.status_code == 422
    page = response.content.decode()
    field_html = page[page.index(f'for="id_{field}"'):]
    field_html = field_html[:field_html.index('<div class="field')] if '<div class="field' in field_html else field_html
    assert html.escape(message) in field_html or message in html.unescape(field_html)
    assert not Budget.objects.filter(tenant=org.tenant).exists()


def test_a_second_budget_for_a_category_is_refused_next_to_the_category(org):
    _budget(org.tenant, "Groceries", "100")
    response = org.client("admin").post(org.url("budgets/new/"), {
        "category_id": str(_cat(org.tenant, "Groceries").pk), "amount": "10", "period": "monthly", "currency": "EUR"})
    assert response.status_code == 422
    page = response.content.decode()
    assert re.search(r'for="id_category_id".*?Already budgeted\.', page, re.S)
    assert Budget.objects.filter(tenant=org.tenant).count() == 1


def test_another_tenants_category_is_not_a_choice(org):
    other = factories.organization(org.people["outsider"], name="Other")
    theirs = Category.objects.get(tenant=other, name="Groceries")
    response = org.client("admin").post(org.url("budgets/new/"), {
        "category_id": str(theirs.pk), "amount": "10", "period": "monthly", "currency": "EUR"})
    assert response.status_code == 422 and not Budget.objects.exists()


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_edit_and_delete_a_budget(org, who):
    budget = _budget(org.tenant, "Groceries", "100")
    client = org.client(who)
    form = client.get(org.url(f"budgets/{budget.pk}/edit/")).content.decode()
    assert 'value="100.0000"' in form or 'value="100' in form

    response = client.post(org.url(f"budgets/{budget.pk}/edit/"), {
        "category_id": str(_cat(org.tenant, "Restaurants").pk), "amount": "120", "period": "yearly",
        "currency": "EUR"})
    assert response.status_code == 302
    budget.refresh_from_db()
    assert (budget.category.name, budget.amount, budget.period, budget.starts_on.month) == (
        "Restaurants", Decimal("120"), "yearly", 1)

    bad = client.post(org.url(f"budgets/{budget.pk}/edit/"), {
        "category_id": str(budget.category_id), "amount": "0", "period": "yearly", "currency": "EUR"})
    assert bad.status_code == 422 and "Must be above 0." in bad.content.decode()
    budget.refresh_from_db()
    assert budget.amount == Decimal("120")

    assert "Delete budget" in client.get(org.url(f"budgets/{budget.pk}/delete/")).content.decode()
    gone = client.post(org.url(f"budgets/{budget.pk}/delete/"))
    assert gone.status_code == 302 and not Budget.objects.filter(pk=budget.pk).exists()
    assert AuditEntry.objects.filter(action="budget.delete", tenant=org.tenant).count() == 1


@pytest.mark.parametrize("who", READERS)
def test_every_change_is_refused_to_members_and_viewers_and_nothing_changes(org, who):
    budget = _budget(org.tenant, "Groceries", "100")
    client = org.client(who)
    data = {"category_id": str(budget.category_id), "amount": "5", "period": "monthly", "currency": "EUR"}
    assert client.get(org.url("budgets/new/")).status_code == 403
    assert client.post(org.url("budgets/new/"), {**data, "category_id": str(_cat(org.tenant, "Transport").pk)}
                       ).status_code == 403
    assert client.get(org.url(f"budgets/{budget.pk}/edit/")).status_code == 403
    assert client.post(org.url(f"budgets/{budget.pk}/edit/"), data).status_code == 403
    assert client.get(org.url(f"budgets/{budget.pk}/delete/")).status_code == 403
    assert client.post(org.url(f"budgets/{budget.pk}/delete/")).status_code == 403
    budget.refresh_from_db()
    assert budget.amount == Decimal("100") and Budget.objects.filter(tenant=org.tenant).count() == 1


def test_strangers_get_404_on_every_budgets_page(org, account):
    budget = _budget(org.tenant, "Groceries", "100")
    client = org.client("outsider")
    for url in ("budgets/", "budgets/new/", f"budgets/{budget.pk}/edit/", f"budgets/{budget.pk}/delete/"):
        assert client.get(org.url(url)).status_code == 404, url
    assert client.post(org.url(f"budgets/{budget.pk}/delete/")).status_code == 404
    assert Budget.objects.filter(pk=budget.pk).exists()


def test_another_tenants_budget_id_is_404_for_an_admin_here(org):
    other = factories.organization(org.people["outsider"], name="Other")
    theirs = ledger_budgets.budget_create(tenant=other, actor=org.people["outsider"], today=timezone.localdate(),
                                          category_id=Category.objects.get(tenant=other, name="Groceries").pk,
                                          amount="10")
    client = org.client("owner")
    for url in (f"budgets/{theirs.pk}/edit/", f"budgets/{theirs.pk}/delete/", "budgets/not-a-uuid/edit/"):
        assert client.get(org.url(url)).status_code == 404, url
    assert client.post(org.url(f"budgets/{theirs.pk}/delete/")).status_code == 404
    assert client.post(org.url(f"budgets/{theirs.pk}/edit/"), {
        "category_id": str(_cat(org.tenant, "Groceries").pk), "amount": "1", "period": "monthly", "currency": "EUR",
    }).status_code == 404
    theirs.refresh_from_db()
    assert theirs.amount == Decimal("10")


# --- the dashboard card -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_the_dashboard_lists_budgets_needing_attention_over_first(org, account, who):
    _budget(org.tenant, "Groceries", "100")
    _budget(org.tenant, "Restaurants", "100")
    _budget(org.tenant, "Transport", "100")
    _spend(account, "Groceries", "-90")
    _spend(account, "Restaurants", "-150")
    _spend(account, "Transport", "-5")

    page = org.client(who).get(org.url()).content.decode()
    card = page[page.index('data-testid="budget-alerts"'):]
    card = card[:card.index("</section>")]
    assert "Budgets needing attention" in card
    assert card.index("Restaurants: 50.00 EUR over budget") < card.index("Groceries: 90.0% of the budget spent")
    assert "Transport" not in card


def test_the_dashboard_has_no_budget_card_without_alerts(org, account):
    _budget(org.tenant, "Groceries", "100")
    _spend(account, "Groceries", "-10")
    page = org.client("viewer").get(org.url()).content.decode()
    assert 'data-testid="budget-alerts"' not in page and "Budgets needing attention" not in page


def test_the_alert_card_escapes_names(org, account):
    evil = Category.objects.create(tenant=org.tenant, name="<b>Bold</b>", kind="expense")
    ledger_budgets.budget_create(tenant=org.tenant, actor=org.people["owner"], category_id=evil.pk, amount="5",
                                 today=timezone.localdate())
    factories.transaction(account, amount="-9", booked_on=timezone.localdate(), category_id=evil.pk)
    page = org.client("viewer").get(org.url()).content.decode()
    assert "<b>Bold</b>" not in page and "&lt;b&gt;Bold&lt;/b&gt;: 4.00 EUR over budget" in page


def test_the_nav_has_budgets_and_reports_tabs(org):
    page = org.client("viewer").get(org.url("budgets/")).content.decode()
    assert re.search(r'href="/t/[^"]+/budgets/" aria-current="page">Budgets</a>', page)
    assert f'href="/t/{org.tenant.slug}/reports/">Reports</a>' in page
