"""Categories and tags pages (everyone reads, admins and owners manage), and the dashboard's spending by
category chart: what each role sees and may do, refusals, other tenants' ids, bad input, escaping, queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffer.audit.models import AuditEntry
from coffer.insights import selectors as insights
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Category, CategorySource, Tag, Transaction, TransactionTag
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MANAGERS = ["owner", "admin"]
READERS = ["member", "viewer"]


def _cat(tenant, name: str) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


@pytest.fixture
def account(org):
    return factories.account(org.tenant, name="Current", opening_balance="1000")


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages._queued_messages]


# --- the categories page ----------------------------------------------------------------------------------


def test_the_tree_shows_each_category_with_its_count_and_a_parent_counts_its_subcategories(org, account):
    food, groceries, restaurants = (_cat(org.tenant, n) for n in ("Food", "Groceries", "Restaurants"))
    for category, times in ((food, 1), (groceries, 3), (restaurants, 2)):
        for _ in range(times):
            factories.transaction(account, amount="-1", category_id=category.pk)
    factories.transaction(account, amount="-1")

    page = org.client("viewer").get(org.url("categories/")).content.decode()

    def row(category):
        found = page[page.index(f'id="cat-{category.pk}"'):]
        return found[:found.index("</tr>")]

    assert re.search(r'<td class="num"><span title="1 in Food itself">6</span></td>', row(food))
    assert '<td class="num">3</td>' in row(groceries) and '<td class="num">2</td>' in row(restaurants)
    assert f'?category={food.pk}"' in row(food)
    uncategorized = page[page.index('class="uncategorized-row"'):]
    assert '?category=uncategorized">1</a>' in uncategorized
    assert page.index(f'id="cat-{food.pk}"') < page.index(f'id="cat-{groceries.pk}"')


@pytest.mark.parametrize("who", READERS)
def test_members_and_viewers_read_the_tree_without_buttons_to_change_it(org, who):
    page = org.client(who).get(org.url("categories/")).content.decode()
    assert "Groceries" in page and "Admins and owners change them." in page
    assert "New category" not in page and "/edit/" not in page and "/archive/" not in page and "/delete/" not in page


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_get_the_form_and_the_buttons(org, who):
    page = org.client(who).get(org.url("categories/")).content.decode()
    assert "New category" in page and "Create category" in page
    food = _cat(org.tenant, "Food")
    for action in ("edit", "archive", "delete"):
        assert f"/categories/{food.pk}/{action}/" in page


@pytest.mark.parametrize("who", READERS)
def test_every_change_is_refused_to_members_and_viewers_and_nothing_changes(org, who):
    client = org.client(who)
    food = _cat(org.tenant, "Food")
    before = Category.objects.count()

    assert client.post(org.url("categories/new/"), {"name": "New", "kind": "expense"}).status_code == 403
    assert client.get(org.url(f"categories/{food.pk}/edit/")).status_code == 403
    assert client.post(org.url(f"categories/{food.pk}/edit/"), {"name": "Eats", "kind": "expense"}).status_code == 403
    assert client.post(org.url(f"categories/{food.pk}/archive/"), {"archived": "1"}).status_code == 403
    assert client.post(org.url(f"categories/{food.pk}/delete/"), {}).status_code == 403

    food.refresh_from_db()
    assert (food.name, food.archived) == ("Food", False) and Category.objects.count() == before


def test_strangers_get_404_on_every_categories_page(org):
    client = org.client("outsider")
    food = _cat(org.tenant, "Food")
    for url in ("categories/", "tags/", f"categories/{food.pk}/edit/", f"categories/{food.pk}/delete/"):
        assert client.get(org.url(url)).status_code == 404, url
    assert client.post(org.url(f"categories/{food.pk}/archive/"), {"archived": "1"}).status_code == 404
    food.refresh_from_db()
    assert not food.archived


def test_an_admin_creates_a_top_level_category_and_a_subcategory_that_takes_its_kind(org):
    client = org.client("admin")

    top = client.post(org.url("categories/new/"), {"name": "  Pets ", "kind": "expense", "color": "#AA3300"})
    assert top.status_code == 302 and _messages(top) == ["Category “Pets” created."]
    pets = Category.objects.get(tenant=org.tenant, name="Pets")
    assert (pets.kind, pets.color, pets.parent) == ("expense", "#aa3300", None)

    sub = client.post(org.url("categories/new/"), {"name": "Vet", "parent": str(pets.pk), "kind": "income"})
    assert sub.status_code == 302
    vet = Category.objects.get(tenant=org.tenant, name="Vet")
    assert (vet.parent, vet.kind) == (pets, "expense")
    assert AuditEntry.objects.filter(action="category.create").count() == 2


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "", "kind": "expense"}, "name", "This field is required."),
    ({"name": "x" * 81, "kind": "expense"}, "name", "Ensure this value has at most 80 characters (it has 81)."),
    ({"name": "food", "kind": "expense"}, "name", "Already taken."),
    ({"name": "Pets"}, "kind", "A top-level category needs a kind."),
    ({"name": "Pets", "kind": "gift"}, "kind", "Select a valid choice. gift is not one of the available choices."),
    ({"name": "Pets", "kind": "expense", "color": "red"}, "color", "A colour such as #1e88e5, or empty."),
    ({"name": "Pets", "parent": "not-an-id"}, "parent",
     "Select a valid choice. not-an-id is not one of the available choices."),
])
def test_bad_category_input_shows_the_error_next_to_its_field_and_creates_nothing(org, data, field, message):
    before = Category.objects.count()
    response = org.client("owner").post(org.url("categories/new/"), data)
    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert f'id="new_{field}_error"'.encode() in response.content
    assert Category.objects.count() == before


def test_a_subcategory_cannot_be_a_parent(org):
    groceries = _cat(org.tenant, "Groceries")
    response = org.client("owner").post(org.url("categories/new/"), {"name": "Fruit", "parent": str(groceries.pk)})
    assert response.status_code == 422 and "parent" in response.context["form"].errors


def test_another_tenants_category_is_not_a_parent_and_its_pages_are_404(org):
    stranger = factories.organization(org.people["outsider"])
    theirs = _cat(stranger, "Food")
    client = org.client("owner")

    response = client.post(org.url("categories/new/"), {"name": "Sneaky", "parent": str(theirs.pk)})
    assert response.status_code == 422 and "parent" in response.context["form"].errors
    assert not Category.objects.filter(name="Sneaky").exists()

    assert client.get(org.url(f"categories/{theirs.pk}/edit/")).status_code == 404
    assert client.post(org.url(f"categories/{theirs.pk}/edit/"), {"name": "Mine", "kind": "expense"}).status_code == 404
    assert client.post(org.url(f"categories/{theirs.pk}/archive/"), {"archived": "1"}).status_code == 404
    assert client.post(org.url(f"categories/{theirs.pk}/delete/"), {}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.archived) == ("Food", False)


def test_an_admin_renames_and_moves_a_category_under_another(org):
    restaurants, leisure = _cat(org.tenant, "Restaurants"), _cat(org.tenant, "Leisure")
    client = org.client("admin")
    form = client.get(org.url(f"categories/{restaurants.pk}/edit/"))
    assert form.status_code == 200 and form.context["form"].initial["name"] == "Restaurants"

    response = client.post(org.url(f"categories/{restaurants.pk}/edit/"),
                           {"name": "Eating out", "parent": str(leisure.pk), "color": ""})

    assert response.status_code == 302 and _messages(response) == ["Category “Eating out” saved."]
    restaurants.refresh_from_db()
    assert (restaurants.name, restaurants.parent) == ("Eating out", leisure)


def test_moving_a_category_with_subcategories_under_another_says_why_not(org):
    food, leisure = _cat(org.tenant, "Food"), _cat(org.tenant, "Leisure")
    response = org.client("owner").post(org.url(f"categories/{food.pk}/edit/"),
                                        {"name": "Food", "parent": str(leisure.pk)})
    assert response.status_code == 422
    assert response.context["form"].errors["parent"] == ["Has subcategories."]
    food.refresh_from_db()
    assert food.parent is None


def test_archive_hides_a_category_until_asked_and_restore_brings_it_back(org):
    food = _cat(org.tenant, "Food")
    client = org.client("admin")

    archived = client.post(org.url(f"categories/{food.pk}/archive/"), {"archived": "1"})
    assert archived.status_code == 302 and _messages(archived) == ["Category “Food” archived."]
    food.refresh_from_db()
    assert food.archived
    page = client.get(org.url("categories/")).content.decode()
    assert f'id="cat-{food.pk}"' not in page and "Show archived (1)" in page
    shown = client.get(org.url("categories/?archived=1")).content.decode()
    assert f'id="cat-{food.pk}"' in shown and "Restore" in shown

    client.post(org.url(f"categories/{food.pk}/archive/"), {"archived": "0"})
    food.refresh_from_db()
    assert not food.archived


def test_deleting_a_category_can_move_its_transactions_to_another(org, account):
    restaurants, groceries = _cat(org.tenant, "Restaurants"), _cat(org.tenant, "Groceries")
    rows = [factories.transaction(account, amount="-5", category_id=restaurants.pk) for _ in range(2)]
    client = org.client("owner")

    page = client.get(org.url(f"categories/{restaurants.pk}/delete/"))
    assert "2 transactions are in this category" in page.content.decode()
    response = client.post(org.url(f"categories/{restaurants.pk}/delete/"), {"reassign_to": str(groceries.pk)})

    assert response.status_code == 302
    assert _messages(response) == ["Category “Restaurants” deleted; 2 transactions moved to “Food › Groceries”."]
    assert not Category.objects.filter(pk=restaurants.pk).exists()
    assert set(Transaction.objects.filter(pk__in=[r.pk for r in rows]).values_list("category_id", flat=True)) == {
        groceries.pk}


def test_deleting_a_category_without_a_target_leaves_its_transactions_uncategorized(org, account):
    restaurants = _cat(org.tenant, "Restaurants")
    row = factories.transaction(account, amount="-5", category_id=restaurants.pk)
    response = org.client("admin").post(org.url(f"categories/{restaurants.pk}/delete/"), {"reassign_to": ""})
    assert _messages(response) == ["Category “Restaurants” deleted; 1 transaction left uncategorized."]
    row.refresh_from_db()
    assert (row.category_id, row.category_source) == (None, CategorySource.NONE)


def test_a_category_with_subcategories_is_not_deleted_and_the_page_says_why(org):
    food = _cat(org.tenant, "Food")
    client = org.client("owner")
    page = client.get(org.url(f"categories/{food.pk}/delete/")).content.decode()
    assert "has 2 subcategories: Groceries, Restaurants" in page and "Delete category</button>" not in page

    response = client.post(org.url(f"categories/{food.pk}/delete/"), {})
    assert response.status_code == 422 and "has 2 subcategories" in response.content.decode()
    assert Category.objects.filter(pk=food.pk).exists()


def test_moving_transactions_to_another_tenants_category_is_refused_and_nothing_is_deleted(org, account):
    restaurants = _cat(org.tenant, "Restaurants")
    row = factories.transaction(account, amount="-5", category_id=restaurants.pk)
    theirs = _cat(factories.organization(org.people["outsider"]), "Groceries")

    response = org.client("owner").post(org.url(f"categories/{restaurants.pk}/delete/"),
                                        {"reassign_to": str(theirs.pk)})

    assert response.status_code == 422 and "reassign_to" in response.context["form"].errors
    assert Category.objects.filter(pk=restaurants.pk).exists()
    row.refresh_from_db()
    assert row.category_id == restaurants.pk


def test_category_names_are_escaped_everywhere_they_show(org, account):
    evil = '<img src=x onerror=alert(1)>'
    ledger_services.category_update(tenant=org.tenant, actor=org.people["owner"],
                                    category_id=_cat(org.tenant, "Food").pk, changes={"name": evil})
    factories.transaction(account, amount="-5", booked_on=dt.date.today().replace(day=1),
                          category_id=_cat(org.tenant, "Groceries").pk)
    client = org.client("owner")
    food = Category.objects.get(tenant=org.tenant, name=evil)

    for url in ("categories/", f"categories/{food.pk}/edit/", "transactions/", ""):
        page = client.get(org.url(url)).content.decode()
        assert "<img src=x" not in page, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, url


def test_the_categories_page_runs_a_bounded_number_of_queries(org, account, django_assert_max_num_queries):
    client = org.client("owner")
    with CaptureQueriesContext(connection) as few:
        client.get(org.url("categories/"))
    for i in range(40):
        ledger_services.category_create(tenant=org.tenant, actor=org.people["owner"], name=f"Extra {i}",
                                        kind="expense")
        factories.transaction(account, amount="-1", category_id=_cat(org.tenant, f"Extra {i}").pk)
    with django_assert_max_num_queries(8):
        client.get(org.url("categories/"))
    with CaptureQueriesContext(connection) as many:
        client.get(org.url("categories/"))
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the tags page ---------------------------------------------------------------------------------------


def _tag(org, name):
    return ledger_services.tag_create(tenant=org.tenant, actor=org.people["owner"], name=name)


def test_tags_are_listed_by_name_paged_with_load_more(org):
    for i in range(55):
        _tag(org, f"tag {i:02d}")
    client = org.client("viewer")

    first = client.get(org.url("tags/"))
    assert [tag.name for tag in first.context["tags"]][:2] == ["tag 00", "tag 01"]
    assert len(first.context["tags"]) == 50
    more = client.get(first.context["more_url"], **HTMX)
    assert "<html" not in more.content.decode() and [tag.name for tag in more.context["tags"]] == [
        f"tag {i}" for i in range(50, 55)]
    assert more.context["more_url"] is None


def test_the_tag_search_keeps_names_containing_the_text(org):
    for name in ("Holiday 2024", "holiday 2023", "Work"):
        _tag(org, name)
    response = org.client("viewer").get(org.url("tags/?q=HOLI"))
    assert [tag.name for tag in response.context["tags"]] == ["holiday 2023", "Holiday 2024"]
    assert "No tag contains" in org.client("viewer").get(org.url("tags/?q=zzz")).content.decode()


def test_a_bad_tag_cursor_is_a_400(org):
    assert org.client("viewer").get(org.url("tags/?cursor=garbage")).status_code == 400


@pytest.mark.parametrize("who", READERS)
def test_members_and_viewers_read_tags_but_may_not_change_them(org, who):
    tag = _tag(org, "Work")
    client = org.client(who)
    page = client.get(org.url("tags/")).content.decode()
    assert "#Work" in page and "New tag" not in page and "/edit/" not in page and "/delete/" not in page

    assert client.post(org.url("tags/new/"), {"name": "Mine"}).status_code == 403
    assert client.get(org.url(f"tags/{tag.pk}/edit/"), **HTMX).status_code == 403
    assert client.post(org.url(f"tags/{tag.pk}/edit/"), {"name": "Renamed"}).status_code == 403
    assert client.post(org.url(f"tags/{tag.pk}/delete/")).status_code == 403
    assert list(Tag.objects.values_list("name", flat=True)) == ["Work"]


@pytest.mark.parametrize("who", MANAGERS)
def test_admins_and_owners_create_rename_and_delete_tags(org, account, who):
    client = org.client(who)
    created = client.post(org.url("tags/new/"), {"name": " Tax  deductible "})
    assert created.status_code == 302 and _messages(created) == ["Tag “Tax deductible” created."]
    tag = Tag.objects.get(tenant=org.tenant)
    row = factories.transaction(account, amount="-1", tags=["tax deductible"])

    form_row = client.get(org.url(f"tags/{tag.pk}/edit/"), **HTMX).content.decode()
    assert 'class="editing"' in form_row and 'value="Tax deductible"' in form_row
    renamed = client.post(org.url(f"tags/{tag.pk}/edit/"), {"name": "Deductible"}, **HTMX)
    assert renamed.status_code == 200 and "#Deductible" in renamed.content.decode()
    assert 'class="editing"' not in renamed.content.decode()
    assert [t.name for t in row.tags.all()] == ["Deductible"]

    deleted = client.post(org.url(f"tags/{tag.pk}/delete/"))
    assert deleted.status_code == 302 and _messages(deleted) == ["Tag “Deductible” deleted; it came off 1 transaction."]
    assert not Tag.objects.exists() and not TransactionTag.objects.exists()


@pytest.mark.parametrize(("name", "message"), [
    ("", "This field is required."),
    ("work", "Already taken."),
    ("x" * 51, "Ensure this value has at most 50 characters (it has 51)."),
])
def test_bad_tag_names_are_refused_next_to_the_field(org, name, message):
    _tag(org, "Work")
    response = org.client("owner").post(org.url("tags/new/"), {"name": name})
    assert response.status_code == 422
    assert response.context["form"].errors["name"] == [message]
    assert b'id="new_tag_name_error"' in response.content
    assert Tag.objects.count() == 1


def test_renaming_a_tag_to_a_taken_name_returns_the_form_row_with_the_error(org):
    _tag(org, "Work")
    home = _tag(org, "Home")
    response = org.client("owner").post(org.url(f"tags/{home.pk}/edit/"), {"name": "WORK"}, **HTMX)
    assert response.status_code == 422 and b"Already taken." in response.content and b'class="editing"' in response.content
    home.refresh_from_db()
    assert home.name == "Home"


def test_another_tenants_tag_is_404_and_stays(org):
    theirs = ledger_services.tag_create(tenant=factories.organization(org.people["outsider"]),
                                        actor=org.people["outsider"], name="Theirs")
    client = org.client("owner")
    assert client.get(org.url(f"tags/{theirs.pk}/row/")).status_code == 404
    assert client.get(org.url(f"tags/{theirs.pk}/edit/")).status_code == 404
    assert client.post(org.url(f"tags/{theirs.pk}/edit/"), {"name": "Mine"}).status_code == 404
    assert client.post(org.url(f"tags/{theirs.pk}/delete/")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert "Theirs" not in client.get(org.url("tags/")).content.decode()


def test_tag_names_are_escaped(org):
    _tag(org, "<script>alert(1)</script>")
    page = org.client("owner").get(org.url("tags/")).content.decode()
    assert "<script>alert(1)</script>" not in page and "#&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_tags_page_runs_a_bounded_number_of_queries(org, django_assert_max_num_queries):
    client = org.client("owner")
    with CaptureQueriesContext(connection) as few:
        client.get(org.url("tags/"))
    for i in range(120):
        _tag(org, f"t{i}")
    with django_assert_max_num_queries(6):
        response = client.get(org.url("tags/"))
    assert len(response.context["tags"]) == 50
    with CaptureQueriesContext(connection) as many:
        client.get(org.url("tags/"))
    assert len(many.captured_queries) == len(few.captured_queries)


# --- spending by category on the dashboard ----------------------------------------------------------------


def _day(day: int = 1) -> dt.date:
    return dt.date.today().replace(day=day)


@pytest.fixture
def spending(org, account):
    """This month: groceries 40 + 10, a restaurant 25 with a 5 refund, rent 900, uncategorized 7 out and
    3 in, salary 2500 in, a transfer category 300 out; last month: fuel 60. And a USD card: 12 in food."""
    cat = {name: _cat(org.tenant, name) for name in
           ("Groceries", "Restaurants", "Rent / mortgage", "Salary", "Transfers", "Fuel", "Food")}
    this = [("-40", "Groceries"), ("-10", "Groceries"), ("-25", "Restaurants"), ("5", "Restaurants"),
            ("-900", "Rent / mortgage"), ("-7", None), ("3", None), ("2500", "Salary"), ("-300", "Transfers")]
    for amount, name in this:
        factories.transaction(account, amount=amount, booked_on=_day(1),
                              category_id=cat[name].pk if name else None)
    last_month = (_day(1) - dt.timedelta(days=1)).replace(day=15)
    factories.transaction(account, amount="-60", booked_on=last_month, category_id=cat["Fuel"].pk)
    card = factories.account(org.tenant, name="Card", currency="USD")
    factories.transaction(card, amount="-12", booked_on=_day(1), category_id=cat["Food"].pk)
    stranger = factories.organization(org.people["outsider"])
    factories.transaction(factories.account(stranger), amount="-999", booked_on=_day(1),
                          category_id=_cat(stranger, "Groceries").pk)
    return cat


def test_spending_by_category_adds_up_per_top_level_category_and_currency(org, spending):
    start, end = _day(1), _day(1) + dt.timedelta(days=40)
    found = insights.spending_by_category(tenant=org.tenant, start=start, end=end.replace(day=1) - dt.timedelta(days=1))

    eur = {line.name: line for line in found["EUR"]}
    assert [line.name for line in found["EUR"]] == ["Housing", "Food", "Uncategorized"]  # largest first
    assert eur["Housing"].amount == Decimal("900")
    assert eur["Food"].amount == Decimal("70")  # 40 + 10 + 25 - 5 (a refund lowers spending)
    assert [(c.name, c.amount) for c in eur["Food"].children] == [("Groceries", Decimal("50")),
                                                                   ("Restaurants", Decimal("20"))]
    assert eur["Uncategorized"].amount == Decimal("7")  # money in without a category is not spending
    assert "Transfers" not in eur and "Income" not in eur and "Transport" not in eur
    assert [(line.name, line.amount, line.own) for line in found["USD"]] == [("Food", Decimal("12"), Decimal("12"))]


def test_spending_by_category_counts_the_first_and_last_day_and_refuses_a_backwards_period(org, spending):
    from coffer import errors

    day = _day(1)
    only_that_day = insights.spending_by_category(tenant=org.tenant, start=day, end=day)
    assert sum(line.amount for line in only_that_day["EUR"]) == Decimal("977")
    with pytest.raises(errors.ValidationError):
        insights.spending_by_category(tenant=org.tenant, start=day, end=day - dt.timedelta(days=1))


def test_the_dashboard_draws_this_months_spending_with_a_numbers_table(org, spending):
    page = org.client("viewer").get(org.url()).content.decode()
    card = page[page.index('id="spending"'):]
    card = card[:card.index("</section>")]

    assert dt.date.today().strftime("%B %Y") in card
    assert len(re.findall(r'<rect class="bar cat"', card)) == 4  # Housing, Food, Uncategorized in EUR; Food in USD
    assert "Housing: 900.00 EUR" in card and "Food: 70.00 EUR" in card and "Food: 12.00 USD" in card
    assert 'fill="#6d4c41"' in card  # Housing's colour
    assert '<td class="num" data-testid="spending-total">977.00</td>' in card
    assert "Groceries</td><td class=\"num\">50.00" in card
    assert "999" not in card and "Transfers" not in card


@pytest.mark.parametrize(("query", "expected"), [
    ("period=last_month", {"Transport": "60.00"}),
    ("period=this_year", None),  # depends on the month; checked below
    ("period=custom&start={last}&end={last}", {"Transport": "60.00"}),
])
def test_the_period_can_be_chosen(org, spending, query, expected):
    last = (_day(1) - dt.timedelta(days=1)).replace(day=15)
    response = org.client("viewer").get(org.url("?" + query.format(last=last.isoformat())))
    charts = dict(response.context["spending"])
    eur = {line.name: f"{line.amount:.2f}" for line in charts["EUR"]["rows"]}
    if expected is not None:
        assert eur == expected
    else:
        assert eur["Housing"] == "900.00"
        assert ("Transport" in eur) == (last.year == dt.date.today().year)


@pytest.mark.parametrize(("query", "field", "message"), [
    ("period=custom&start=2024-05-01", "end", "Give the last day of the range."),
    ("period=custom&start=2024-05-02&end=2024-05-01", "start", "The range starts after it ends."),
    ("period=custom&start=2000-01-01&end=2024-05-01", "start", "A range covers at most ten years."),
    ("period=custom&start=nope&end=2024-05-01", "start", "Enter a valid date."),
    ("period=forever", "period", "Select a valid choice. forever is not one of the available choices."),
])
def test_a_bad_period_shows_the_error_next_to_its_field_and_no_chart(org, spending, query, field, message):
    response = org.client("viewer").get(org.url("?" + query))
    assert response.status_code == 200
    assert response.context["spending_form"].errors[field] == [message]
    assert response.context["spending"] == []
    assert f'id="id_{field}_error"'.encode() in response.content


def test_a_period_without_spending_says_so(org, account):
    factories.transaction(account, amount="100", booked_on=_day(1))
    page = org.client("viewer").get(org.url()).content.decode()
    assert 'data-testid="no-spending"' in page


def test_a_long_category_name_is_shortened_in_the_chart_and_whole_in_its_tooltip_and_table(org, account):
    long_name = "Subscriptions and memberships of every kind"
    ledger_services.category_update(tenant=org.tenant, actor=org.people["owner"],
                                    category_id=_cat(org.tenant, "Subscriptions").pk, changes={"name": long_name})
    factories.transaction(account, amount="-9", booked_on=_day(1), category_id=_cat(org.tenant, long_name).pk)
    page = org.client("viewer").get(org.url()).content.decode()
    assert "Subscriptions and members…</text>" in page
    assert f"<title>{long_name}: 9.00 EUR</title>" in page and f"<td>{long_name}</td>" in page
