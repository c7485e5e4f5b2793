"""Transactions pages: add, filter, sort, "load more", inline edit and delete over HTMX, escaping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffer.ledger.models import Transaction
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="100")


def _form(for_account, **overrides):
    return {"account": str(for_account.pk), "booked_on": "2024-03-01", "amount": "-12.50", "description": "Lunch",
            "counterparty": "", "reference": "", "note": "", **overrides}


def test_a_member_adds_a_transaction_and_the_dashboard_balance_follows(org, account):
    client = org.client("member")

    response = client.post(org.url("transactions/new/"), _form(account), follow=True)

    assert response.redirect_chain[-1][0] == org.url("transactions/")
    assert "Transaction of -12.50 EUR added." in response.content.decode()
    account.refresh_from_db()
    assert account.balance == Decimal("87.50")
    dashboard = client.get(org.url())
    assert dashboard.context["totals"] == [("EUR", Decimal("87.50"))]
    assert 'data-testid="total-EUR">87.50' in dashboard.content.decode()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("amount", "twelve", "Enter a number."),
    ("amount", "1.23456", "Ensure that there are no more than 4 decimal places."),
    ("booked_on", "2024-02-30", "Enter a valid date."),
    ("booked_on", "", "This field is required."),
    ("account", "00000000-0000-0000-0000-000000000000",
     "Select a valid choice. 00000000-0000-0000-0000-000000000000 is not one of the available choices."),
])
def test_bad_transaction_input_shows_the_error_next_to_its_field_and_adds_nothing(org, account, field, value, message):
    response = org.client("member").post(org.url("transactions/new/"), _form(account, **{field: value}))

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"'.encode() in response.content
    assert not Transaction.objects.exists()
    account.refresh_from_db()
    assert account.balance == 100


def test_an_archived_account_is_not_offered_for_new_transactions(org, account):
    archived = factories.account(org.tenant, name="Closed")
    org.client("owner").post(org.url(f"accounts/{archived.pk}/archive/"), {"archived": "1"})

    response = org.client("member").post(org.url("transactions/new/"), _form(archived))

    assert response.status_code == 422
    assert "account" in response.context["form"].errors
    assert not Transaction.objects.exists()


def test_a_transaction_described_as_a_script_renders_as_text(org, account):
    factories.transaction(account, amount="-1", description="<script>alert(1)</script>", counterparty="<b>x</b>")
    client = org.client("viewer")

    for url in (org.url(), org.url("transactions/"), org.url(f"accounts/{account.pk}/")):
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    assert "<b>x</b>" not in client.get(org.url("transactions/")).content.decode()


def test_an_account_named_like_markup_renders_as_text_in_the_switcher_pages(org):
    factories.account(org.tenant, name='"><img src=x onerror=alert(1)>')
    page = org.client("viewer").get(org.url("accounts/")).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.fixture
def spread(org, account):
    """Six rows over two accounts, dates and amounts apart so each filter picks a known set."""
    savings = factories.account(org.tenant, name="Savings")
    rows = {
        "rent": factories.transaction(account, amount="-900", booked_on=dt.date(2024, 1, 1), description="Rent January"),
        "salary": factories.transaction(account, amount="2500", booked_on=dt.date(2024, 1, 25), description="Salary"),
        "coffee": factories.transaction(account, amount="-3.20", booked_on=dt.date(2024, 2, 3), description="Coffee",
                                        counterparty="Bean Bar"),
        "rent2": factories.transaction(account, amount="-900", booked_on=dt.date(2024, 2, 1), description="Rent February"),
        "save": factories.transaction(savings, amount="300", booked_on=dt.date(2024, 2, 2), description="Set aside"),
        "interest": factories.transaction(savings, amount="1.05", booked_on=dt.date(2024, 3, 31), description="Interest"),
    }
    return savings, rows


def _descriptions(response) -> list[str]:
    return [row.description for row in response.context["rows"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["Interest", "Coffee", "Set aside", "Rent February", "Salary", "Rent January"]),
    ("booked_from=2024-02-01&booked_to=2024-02-28", ["Coffee", "Set aside", "Rent February"]),
    ("amount_min=-10&amount_max=10", ["Interest", "Coffee"]),
    ("q=rent", ["Rent February", "Rent January"]),
    ("q=bean", ["Coffee"]),
    ("sort=amount", ["Rent February", "Rent January", "Coffee", "Interest", "Set aside", "Salary"]),
    ("sort=booked_on&amount_min=0", ["Salary", "Set aside", "Interest"]),
])
def test_filters_and_sort_pick_the_right_rows(org, spread, query, expected):
    response = org.client("viewer").get(org.url(f"transactions/?{query}"))

    if query.startswith("sort=amount"):  # ties on -900 are broken by id, ascending
        assert _descriptions(response)[2:] == expected[2:]
        assert sorted(_descriptions(response)[:2]) == sorted(expected[:2])
    else:
        assert _descriptions(response) == expected


def test_the_account_filter_shows_one_accounts_rows(org, spread):
    savings, _ = spread
    response = org.client("viewer").get(org.url(f"transactions/?account={savings.pk}"))
    assert _descriptions(response) == ["Interest", "Set aside"]


def test_contradictory_or_malformed_filters_show_errors_next_to_their_fields(org, spread):
    client = org.client("viewer")

    backwards = client.get(org.url("transactions/?booked_from=2024-03-01&booked_to=2024-01-01"))
    assert backwards.context["form"].errors == {"booked_from": ["After the “To” date."]}
    assert backwards.context["rows"] == []

    malformed = client.get(org.url("transactions/?amount_min=lots&booked_to=nope"))
    assert set(malformed.context["form"].errors) == {"amount_min", "booked_to"}
    assert b'id="id_amount_min_error"' in malformed.content


def test_another_tenants_account_is_not_a_filter_choice(org, spread):
    stranger = factories.account(factories.organization(org.people["outsider"]), name="Stranger")
    factories.transaction(stranger, description="Not yours")

    response = org.client("viewer").get(org.url(f"transactions/?account={stranger.pk}"))

    assert "account" in response.context["form"].errors
    assert b"Not yours" not in response.content


def test_load_more_pages_through_every_row_once_with_the_filters_kept(org, account):
    for i in range(130):
        factories.transaction(account, amount=str(i + 1), booked_on=dt.date(2024, 1, 1) + dt.timedelta(days=i % 7),
                              description=f"row {i}")
    factories.transaction(account, amount="-5", description="filtered out")
    client = org.client("viewer")

    first = client.get(org.url("transactions/?amount_min=1&sort=-amount"))
    seen = [row.pk for row in first.context["rows"]]
    assert len(seen) == 50
    more_url = first.context["more_url"]
    while more_url:
        assert "amount_min=1" in more_url and "sort=-amount" in more_url
        fragment = client.get(more_url, **HTMX)
        assert "<html" not in fragment.content.decode()
        seen += [row.pk for row in fragment.context["rows"]]
        more_url = fragment.context["more_url"]

    assert len(seen) == len(set(seen)) == 130
    amounts = list(Transaction.objects.filter(pk__in=seen).values_list("pk", "amount"))
    by_pk = dict(amounts)
    assert [by_pk[pk] for pk in seen] == sorted(by_pk.values(), reverse=True)


def test_load_more_without_htmx_is_a_whole_page(org, account):
    for i in range(55):
        factories.transaction(account, amount="1", description=f"row {i}")
    client = org.client("viewer")
    more_url = client.get(org.url("transactions/")).context["more_url"]

    page = client.get(more_url)

    assert "<html" in page.content.decode() and len(page.context["rows"]) == 5


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("page", "most"), [
    ("transactions/", 9), ("transactions/?q=row&sort=amount", 9), ("transactions/?category=uncategorized&sort=-amount", 9),
    ("", 11),  # the dashboard: accounts, recent rows and their tags, imports, cash flow, spending, budget alerts
])
def test_list_pages_run_the_same_bounded_number_of_queries_for_5_or_150_rows(org, account, page, most,
                                                                            django_assert_max_num_queries):
    other = factories.account(org.tenant, name="Other")
    client = org.client("member")
    for i in range(5):
        factories.transaction(account if i % 2 else other, amount="1", description=f"row {i}")
    few = _count(client, org.url(page))
    for i in range(5, 150):
        factories.transaction(account if i % 2 else other, amount="1", description=f"row {i}")
    for i in range(3):
        factories.account(org.tenant, name=f"More {i}")

    with django_assert_max_num_queries(most):
        response = client.get(org.url(page))
    assert _count(client, org.url(page)) == few
    assert len(response.context.get("rows") or response.context.get("recent")) <= 50


def test_the_load_more_fragment_runs_a_bounded_number_of_queries(org, account, django_assert_max_num_queries):
    for i in range(120):
        factories.transaction(account, amount="1", description=f"row {i}")
    client = org.client("member")
    more_url = client.get(org.url("transactions/")).context["more_url"]

    with django_assert_max_num_queries(8):
        fragment = client.get(more_url, **HTMX)
    assert len(fragment.context["rows"]) == 50


def test_inline_edit_swaps_a_form_row_in_and_saving_swaps_the_updated_row_back(org, account):
    row = factories.transaction(account, amount="-10", description="Bus", note="keep me")
    client = org.client("member")

    form_row = client.get(org.url(f"transactions/{row.pk}/edit/"), **HTMX).content.decode()
    assert f'<tr id="txn-{row.pk}" class="editing">' in form_row
    assert "<html" not in form_row and 'hx-post="' in form_row and "keep me" in form_row

    saved = client.post(org.url(f"transactions/{row.pk}/edit/"),
                        _form(account, amount="-12.00", description="Bus and tram", note="keep me"), **HTMX)
    assert saved.status_code == 200
    html = saved.content.decode()
    assert "<html" not in html and "Bus and tram" in html and "-12.00" in html and 'class="editing"' not in html
    row.refresh_from_db()
    account.refresh_from_db()
    assert (row.amount, row.description, row.note) == (Decimal("-12"), "Bus and tram", "keep me")
    assert account.balance == Decimal("88")


def test_inline_edit_with_bad_input_returns_the_form_row_with_the_error_and_changes_nothing(org, account):
    row = factories.transaction(account, amount="-10", description="Bus")
    client = org.client("member")

    response = client.post(org.url(f"transactions/{row.pk}/edit/"), _form(account, amount="ten"), **HTMX)

    assert response.status_code == 422
    assert "<html" not in response.content.decode()
    assert f'id="txn_{row.pk.hex}_amount_error"'.encode() in response.content and b"Enter a number." in response.content
    row.refresh_from_db()
    assert row.amount == -10 and row.description == "Bus"


def test_cancel_of_an_inline_edit_gets_the_plain_row_back(org, account):
    row = factories.transaction(account, amount="-10", description="Bus")
    html = org.client("viewer").get(org.url(f"transactions/{row.pk}/row/"), **HTMX).content.decode()
    assert f'id="txn-{row.pk}"' in html and "Bus" in html and "<form" not in html  # a viewer gets no buttons


def test_delete_over_htmx_removes_the_row_and_moves_the_balance_back(org, account):
    row = factories.transaction(account, amount="-10", description="Bus")
    client = org.client("member")

    response = client.post(org.url(f"transactions/{row.pk}/delete/"), **HTMX)

    assert response.status_code == 200 and response.content == b""
    assert not Transaction.objects.filter(pk=row.pk).exists()
    account.refresh_from_db()
    assert account.balance == 100


def test_delete_only_answers_post(org, account):
    row = factories.transaction(account, amount="-10")
    assert org.client("member").get(org.url(f"transactions/{row.pk}/delete/")).status_code == 405
    assert Transaction.objects.filter(pk=row.pk).exists()


# --- categories and tags on the list, in the filters and in the inline edit -------------------------------

from coffer.audit.models import AuditEntry  # noqa: E402
from coffer.ledger import services as ledger_services  # noqa: E402
from coffer.ledger.models import Category, CategorySource, TransactionTag  # noqa: E402


def _category(tenant, name: str, parent: str | None = None) -> Category:
    return Category.objects.get(tenant=tenant, name=name, parent__name=parent) if parent else \
        Category.objects.get(tenant=tenant, name=name, parent=None)


def _tag(org, name: str):
    return ledger_services.tag_create(tenant=org.tenant, actor=org.people["owner"], name=name)


@pytest.fixture
def sorted_rows(org, account):
    """Rows in Food, Food › Groceries, Transport, none; one tagged "holiday"."""
    food, groceries = _category(org.tenant, "Food"), _category(org.tenant, "Groceries", "Food")
    _tag(org, "holiday")
    rows = {
        "market": factories.transaction(account, amount="-20", description="Market", category_id=groceries.pk,
                                        tags=["holiday"], booked_on=dt.date(2024, 1, 3)),
        "dinner": factories.transaction(account, amount="-45", description="Dinner", category_id=food.pk,
                                        booked_on=dt.date(2024, 1, 2)),
        "bus": factories.transaction(account, amount="-3", description="Bus",
                                     category_id=_category(org.tenant, "Transport").pk, booked_on=dt.date(2024, 1, 1)),
        "loose": factories.transaction(account, amount="-7", description="Loose", booked_on=dt.date(2024, 1, 4)),
    }
    return rows


@pytest.mark.parametrize(("query", "expected"), [
    ("category={food}", ["Market", "Dinner"]),  # a parent includes its subcategories
    ("category={groceries}", ["Market"]),
    ("category=uncategorized", ["Loose"]),
    ("tag=holiday", ["Market"]),
    ("tag=HOLIDAY", ["Market"]),
    ("tag=nothing-like-it", []),
    ("category={food}&tag=holiday&amount_max=-10", ["Market"]),
])
def test_the_category_and_tag_filters_pick_the_right_rows(org, sorted_rows, query, expected):
    ids = {"food": _category(org.tenant, "Food").pk, "groceries": _category(org.tenant, "Groceries", "Food").pk}
    response = org.client("viewer").get(org.url("transactions/?" + query.format(**ids)))
    assert response.status_code == 200
    assert _descriptions(response) == expected


def test_each_row_shows_its_category_and_tags(org, sorted_rows):
    page = org.client("viewer").get(org.url("transactions/")).content.decode()
    market = page[page.index(f'id="txn-{sorted_rows["market"].pk}"'):]
    market = market[:market.index("</tr>")]
    assert "Food › Groceries" in market and "#holiday" in market
    loose = page[page.index(f'id="txn-{sorted_rows["loose"].pk}"'):]
    assert 'data-testid="category"' not in loose[:loose.index("</tr>")]


def test_another_tenants_category_in_the_filter_is_an_error_and_shows_nothing_of_theirs(org, sorted_rows):
    stranger = factories.organization(org.people["outsider"])
    theirs = factories.account(stranger, name="Theirs")
    their_food = _category(stranger, "Food")
    factories.transaction(theirs, description="Not yours", category_id=their_food.pk)

    response = org.client("viewer").get(org.url(f"transactions/?category={their_food.pk}"))

    assert "category" in response.context["form"].errors
    assert response.context["rows"] == [] and b"Not yours" not in response.content


def test_category_and_tag_names_are_escaped_in_rows_and_filters(org, account):
    ledger_services.category_update(tenant=org.tenant, actor=org.people["owner"],
                                    category_id=_category(org.tenant, "Food").pk, changes={"name": "<b>Food</b>"})
    _tag(org, "<script>alert(1)</script>")
    factories.transaction(account, description="x", category_id=_category(org.tenant, "<b>Food</b>").pk,
                          tags=["<script>alert(1)</script>"])

    page = org.client("member").get(org.url("transactions/")).content.decode()

    assert "<b>Food</b>" not in page and "&lt;b&gt;Food&lt;/b&gt;" in page
    assert "<script>alert(1)</script>" not in page and "#&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_member_adds_a_transaction_with_a_category_and_tags(org, account):
    _tag(org, "Work")
    food = _category(org.tenant, "Food")

    response = org.client("member").post(org.url("transactions/new/"),
                                         _form(account, category=str(food.pk), tags=" work , ,WORK"))

    assert response.status_code == 302
    row = Transaction.objects.get()
    assert row.category == food and row.category_source == CategorySource.MANUAL
    assert [tag.name for tag in row.tags.all()] == ["Work"]


def test_inline_edit_sets_category_and_tags_and_the_row_shows_them(org, account):
    _tag(org, "trip")
    row = factories.transaction(account, amount="-10", description="Bus")
    transport = _category(org.tenant, "Transport")
    client = org.client("member")

    form_row = client.get(org.url(f"transactions/{row.pk}/edit/"), **HTMX).content.decode()
    assert 'name="category"' in form_row and 'name="tags"' in form_row and "Food › Groceries" in form_row

    saved = client.post(org.url(f"transactions/{row.pk}/edit/"),
                        _form(account, amount="-10", description="Bus", category=str(transport.pk), tags="trip"), **HTMX)

    assert saved.status_code == 200
    assert "Transport" in saved.content.decode() and "#trip" in saved.content.decode()
    row.refresh_from_db()
    assert row.category == transport and row.category_source == CategorySource.MANUAL
    assert list(row.tags.values_list("name", flat=True)) == ["trip"]


def test_saving_a_note_keeps_a_category_a_rule_set_as_the_rules(org, account):
    food = _category(org.tenant, "Food")
    row = factories.transaction(account, amount="-10", description="Lunch", category_id=food.pk)
    Transaction.objects.filter(pk=row.pk).update(category_source=CategorySource.RULE)

    org.client("member").post(org.url(f"transactions/{row.pk}/edit/"),
                              _form(account, amount="-10", description="Lunch", note="with Sam", category=str(food.pk)),
                              **HTMX)

    row.refresh_from_db()
    assert (row.note, row.category_id, row.category_source) == ("with Sam", food.pk, CategorySource.RULE)


def test_an_unknown_tag_in_the_inline_edit_is_an_error_next_to_the_field_and_changes_nothing(org, account):
    row = factories.transaction(account, amount="-10", description="Bus")

    response = org.client("member").post(org.url(f"transactions/{row.pk}/edit/"),
                                         _form(account, amount="-99", description="Changed", tags="nope"), **HTMX)

    assert response.status_code == 422
    assert f'id="txn_{row.pk.hex}_tags_error"'.encode() in response.content
    assert b"No such tag: &#x27;nope&#x27;" in response.content
    row.refresh_from_db()
    assert (row.amount, row.description) == (Decimal("-10"), "Bus") and not row.tags.exists()


def test_an_archived_category_is_not_offered_but_a_row_already_in_it_keeps_it(org, account):
    food = _category(org.tenant, "Food")
    row = factories.transaction(account, amount="-10", description="Old", category_id=food.pk)
    ledger_services.category_update(tenant=org.tenant, actor=org.people["owner"], category_id=food.pk,
                                    changes={"archived": True})
    client = org.client("member")

    assert f'value="{food.pk}"' not in client.get(org.url("transactions/new/")).content.decode()
    assert f'value="{food.pk}" selected' in client.get(org.url(f"transactions/{row.pk}/edit/"), **HTMX).content.decode()
    refused = client.post(org.url("transactions/new/"), _form(account, category=str(food.pk)))
    assert refused.status_code == 422 and "category" in refused.context["form"].errors
    assert Transaction.objects.count() == 1


# --- bulk select and edit -----------------------------------------------------------------------------


def _bulk(client, org, rows, **data):
    return client.post(org.url("transactions/bulk/"), {"rows": [str(getattr(r, "pk", r)) for r in rows],
                                                       "next": org.url("transactions/?q=a"), **data})


def _messages(response) -> list[str]:
    """The messages this request added (the flash shown on the page it redirects to)."""
    return [str(m) for m in response.wsgi_request._messages._queued_messages]


def test_the_bulk_bar_and_tick_boxes_are_for_members_and_up(org, sorted_rows):
    member = org.client("member").get(org.url("transactions/")).content.decode()
    assert 'id="bulk-txns"' in member and "Select all on this page" in member
    assert member.count('name="rows"') == 4
    viewer = org.client("viewer").get(org.url("transactions/")).content.decode()
    assert 'id="bulk-txns"' not in viewer and 'name="rows"' not in viewer


def test_a_member_sets_a_category_on_the_ticked_rows_in_one_audit_entry(org, sorted_rows):
    transport = _category(org.tenant, "Transport")
    picked = [sorted_rows["market"], sorted_rows["loose"], sorted_rows["bus"]]

    response = _bulk(org.client("member"), org, picked, action="set_category", category=str(transport.pk))

    assert response.status_code == 302 and response["Location"] == org.url("transactions/?q=a")
    assert _messages(response) == ["Category set on 2 transactions."]  # the bus was in Transport already
    for row in picked:
        row.refresh_from_db()
        assert (row.category_id, row.category_source) == (transport.pk, CategorySource.MANUAL)
    sorted_rows["dinner"].refresh_from_db()
    assert sorted_rows["dinner"].category == _category(org.tenant, "Food")
    entry = AuditEntry.objects.get(action="transaction.bulk_set_category")
    assert entry.actor == org.people["member"] and len(entry.changes["transactions"][1]) == 3


def test_bulk_can_clear_the_category(org, sorted_rows):
    response = _bulk(org.client("member"), org, [sorted_rows["market"], sorted_rows["dinner"]],
                     action="set_category", category="uncategorized")
    assert _messages(response) == ["Category cleared on 2 transactions."]
    assert Transaction.objects.filter(category__isnull=True).count() == 3


def test_bulk_adds_and_removes_a_tag(org, sorted_rows):
    client = org.client("member")
    added = _bulk(client, org, sorted_rows.values(), action="add_tag", tag="HOLIDAY")
    assert _messages(added) == ["Tag “HOLIDAY” added to 3 transactions."]  # one carried it already
    assert TransactionTag.objects.filter(tag__name="holiday").count() == 4

    removed = _bulk(client, org, [sorted_rows["market"], sorted_rows["bus"]], action="remove_tag", tag="holiday")
    assert _messages(removed) == ["Tag “holiday” removed from 2 transactions."]
    assert set(TransactionTag.objects.values_list("transaction_id", flat=True)) == {
        sorted_rows["dinner"].pk, sorted_rows["loose"].pk}


def test_bulk_delete_removes_the_rows_and_moves_the_balances_back(org, account, sorted_rows):
    other = factories.account(org.tenant, name="Cash", opening_balance="50")
    cash = factories.transaction(other, amount="-5", description="Ice cream")
    account.refresh_from_db()
    assert account.balance == Decimal("25")  # 100 - 20 - 45 - 3 - 7

    response = _bulk(org.client("member"), org, [sorted_rows["market"], sorted_rows["dinner"], cash], action="delete")

    assert _messages(response) == ["Deleted 3 transactions."]
    assert set(Transaction.objects.values_list("description", flat=True)) == {"Bus", "Loose"}
    account.refresh_from_db()
    other.refresh_from_db()
    assert (account.balance, other.balance) == (Decimal("90"), Decimal("50"))
    assert not TransactionTag.objects.exists()
    assert AuditEntry.objects.filter(action="transaction.bulk_delete").count() == 1


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_bulk_is_refused_to_viewers_and_strangers_and_changes_nothing(org, sorted_rows, who):
    response = _bulk(org.client(who), org, sorted_rows.values(), action="delete")
    assert response.status_code == (403 if who == "viewer" else 404)
    assert Transaction.objects.count() == 4


def test_the_bulk_service_checks_the_role_itself(org, sorted_rows):
    from coffer import errors

    with pytest.raises(errors.PermissionDenied):
        ledger_services.transaction_bulk_update(tenant=org.tenant, actor=org.people["viewer"],
                                                transaction_ids=[sorted_rows["bus"].pk], action="delete")
    with pytest.raises(errors.NotFound):
        ledger_services.transaction_bulk_update(tenant=org.tenant, actor=org.people["outsider"],
                                                transaction_ids=[sorted_rows["bus"].pk], action="delete")
    assert Transaction.objects.count() == 4


def test_another_tenants_transaction_among_the_ticked_rows_changes_nothing_anywhere(org, sorted_rows):
    stranger = factories.organization(org.people["outsider"])
    theirs = factories.transaction(factories.account(stranger, name="Theirs"), amount="-1", description="Theirs")
    client = org.client("member")

    for data in ({"action": "delete"}, {"action": "set_category", "category": str(_category(org.tenant, "Food").pk)},
                 {"action": "add_tag", "tag": "holiday"}):
        response = _bulk(client, org, [sorted_rows["bus"], theirs], **data)
        assert _messages(response) == [
            "1 of the selected transactions does not exist (any more); reload the list and select again"]

    assert Transaction.objects.count() == 5
    theirs.refresh_from_db()
    sorted_rows["bus"].refresh_from_db()
    assert theirs.category_id is None
    assert sorted_rows["bus"].category == _category(org.tenant, "Transport")
    assert not TransactionTag.objects.filter(transaction=theirs).exists()
    assert not AuditEntry.objects.filter(action__startswith="transaction.bulk").exists()


def test_another_tenants_category_or_tag_in_a_bulk_request_changes_nothing(org, sorted_rows):
    stranger = factories.organization(org.people["outsider"])
    ledger_services.tag_create(tenant=stranger, actor=org.people["outsider"], name="theirs")
    client = org.client("member")

    category = _bulk(client, org, [sorted_rows["bus"]], action="set_category",
                     category=str(_category(stranger, "Food").pk))
    tag = _bulk(client, org, [sorted_rows["bus"]], action="add_tag", tag="theirs")

    assert "Select a valid choice." in _messages(category)[0]
    assert _messages(tag) == ["No such tag: 'theirs'; an admin creates tags first"]
    sorted_rows["bus"].refresh_from_db()
    assert sorted_rows["bus"].category == _category(org.tenant, "Transport") and not sorted_rows["bus"].tags.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"rows": [], "action": "delete"}, "Select at least one transaction."),
    ({"action": "set_category"}, "Choose the category to set."),
    ({"action": "add_tag", "tag": "  "}, "Give the name of the tag."),
    ({"action": "explode"}, "Select a valid choice. explode is not one of the available choices."),
    ({"rows": ["not-an-id"], "action": "delete"}, "Not a transaction id"),
    ({"rows": ["x" * 65], "action": "delete"}, "Select a valid choice."),
])
def test_bad_bulk_input_says_what_is_wrong_and_changes_nothing(org, sorted_rows, data, message):
    posted = {"rows": [str(sorted_rows["bus"].pk)], "next": org.url("transactions/"), **data}
    response = org.client("member").post(org.url("transactions/bulk/"), posted)
    assert response.status_code == 302
    assert message in _messages(response)[0]
    assert Transaction.objects.count() == 4
    sorted_rows["bus"].refresh_from_db()
    assert sorted_rows["bus"].category == _category(org.tenant, "Transport")


def test_bulk_takes_at_most_500_rows(org, account):
    import uuid

    ids = [str(uuid.uuid4()) for _ in range(501)]
    response = org.client("member").post(org.url("transactions/bulk/"), {"rows": ids, "action": "delete"})
    assert _messages(response) == ["Select at most 500 transactions at once (501 were selected)."]
    from coffer import errors

    with pytest.raises(errors.ValidationError, match="At most 500 transactions at once"):
        ledger_services.transaction_bulk_update(tenant=org.tenant, actor=org.people["member"], transaction_ids=ids,
                                                action="delete")


def test_bulk_goes_back_only_to_this_tenants_list(org, sorted_rows):
    response = org.client("member").post(org.url("transactions/bulk/"), {
        "rows": [str(sorted_rows["bus"].pk)], "action": "add_tag", "tag": "holiday", "next": "https://evil.test/x"})
    assert response["Location"] == org.url("transactions/")


def test_bulk_runs_the_same_number_of_queries_for_3_or_300_rows(org, account):
    _tag(org, "many")
    food = _category(org.tenant, "Food")
    client = org.client("member")

    for action, extra in (("set_category", {"category": str(food.pk)}), ("add_tag", {"tag": "many"}),
                          ("delete", {})):
        counts = []
        for size in (3, 300):
            rows = [factories.transaction(account, amount="-1", description=f"r{i}") for i in range(size)]
            with CaptureQueriesContext(connection) as ctx:
                response = _bulk(client, org, rows, action=action, **extra)
            assert str(size) in _messages(response)[0]
            counts.append(len(ctx.captured_queries))
        # Set-based: no statement per row (SQLite splits one bulk INSERT by its 999-parameter limit, hence +1).
        assert counts[1] - counts[0] <= (1 if action == "add_tag" else 0), (action, counts)
    assert Transaction.objects.count() == 2 * 303  # the deleted 303 are gone


def test_rows_loaded_into_an_accounts_page_get_no_tick_box(org, account):
    for i in range(55):
        factories.transaction(account, amount="1", description=f"row {i}")
    client = org.client("member")
    more_url = client.get(org.url(f"accounts/{account.pk}/")).context["more_url"]

    from_account = client.get(more_url, HTTP_HX_CURRENT_URL=f"http://testserver{org.url(f'accounts/{account.pk}/')}",
                              **HTMX).content.decode()
    from_list = client.get(more_url, HTTP_HX_CURRENT_URL=f"http://testserver{org.url('transactions/')}",
                           **HTMX).content.decode()

    assert 'name="rows"' not in from_account and from_list.count('name="rows"') == 5


def test_another_tenants_tag_name_in_the_filter_matches_nothing_of_theirs(org, sorted_rows):
    stranger = factories.organization(org.people["outsider"])
    ledger_services.tag_create(tenant=stranger, actor=org.people["outsider"], name="secret")
    factories.transaction(factories.account(stranger, name="Theirs"), description="Their secret", tags=["secret"])

    response = org.client("viewer").get(org.url("transactions/?tag=secret"))

    assert response.status_code == 200 and response.context["rows"] == []
    assert b"Their secret" not in response.content
