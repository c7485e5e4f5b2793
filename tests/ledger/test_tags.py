"""Tags, and categories and tags on transactions, in the ledger services and selectors."""

from __future__ import annotations

import datetime as dt

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Category, Tag, Transaction, TransactionTag
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return factories.user()


@pytest.fixture
def tenant(owner):
    return factories.organization(owner)


@pytest.fixture
def account(tenant):
    return factories.account(tenant)


def tag(tenant, owner, name) -> Tag:
    return ledger_services.tag_create(tenant=tenant, actor=owner, name=name)


def category(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def tag_names(row) -> list[str]:
    return sorted(Tag.objects.filter(links__transaction_id=row.pk).values_list("name", flat=True))


# --- tags -----------------------------------------------------------------


def test_a_tag_is_created_renamed_and_deleted_with_an_audit_entry_each(owner, tenant, account):
    trip = tag(tenant, owner, "  Summer   trip ")
    assert trip.name == "Summer trip"
    row = factories.transaction(account, tags=["summer trip"])
    ledger_services.tag_update(tenant=tenant, actor=owner, tag_id=trip.pk, changes={"name": "Holiday"})
    assert tag_names(row) == ["Holiday"]
    assert ledger_services.tag_delete(tenant=tenant, actor=owner, tag_id=trip.pk) == 1
    assert tag_names(row) == []
    assert not Tag.objects.filter(pk=trip.pk).exists()
    entries = AuditEntry.objects.filter(object_id=str(trip.pk)).order_by("created_at", "id")
    assert [(e.action, e.changes) for e in entries] == [
        ("tag.create", {"name": [None, "Summer trip"]}),
        ("tag.update", {"name": ["Summer trip", "Holiday"]}),
        ("tag.delete", {"name": ["Holiday", None], "transactions": [1, 0]}),
    ]


@pytest.mark.parametrize("name", ["Trip", "trip", "TRIP", " trip "])
def test_tag_names_are_unique_per_tenant_case_insensitively(owner, tenant, name):
    tag(tenant, owner, "Trip")
    with pytest.raises(errors.Conflict) as caught:
        tag(tenant, owner, name)
    assert caught.value.message == f"A tag named {name.strip()!r} already exists"
    assert Tag.objects.filter(tenant=tenant).count() == 1
    tag(factories.organization(owner), owner, name)  # another tenant is free to


def test_renaming_onto_another_tags_name_is_refused_but_a_case_change_is_fine(owner, tenant):
    tag(tenant, owner, "Trip")
    work = tag(tenant, owner, "Work")
    with pytest.raises(errors.Conflict):
        ledger_services.tag_update(tenant=tenant, actor=owner, tag_id=work.pk, changes={"name": "TRIP"})
    assert ledger_services.tag_update(tenant=tenant, actor=owner, tag_id=work.pk, changes={"name": "WORK"}).name == "WORK"


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, None, 5])
def test_bad_tag_names_are_refused(owner, tenant, name):
    with pytest.raises(errors.ValidationError) as caught:
        tag(tenant, owner, name)
    assert "name" in caught.value.field_errors
    assert not Tag.objects.filter(tenant=tenant).exists()


def test_a_tenant_has_at_most_the_tag_limit(owner, tenant, monkeypatch):
    monkeypatch.setattr(ledger_services, "MAX_TAGS_PER_TENANT", 2)
    tag(tenant, owner, "a")
    tag(tenant, owner, "b")
    with pytest.raises(errors.Conflict) as caught:
        tag(tenant, owner, "c")
    assert "at most 2 tags" in caught.value.message


def test_another_tenants_tag_is_not_found(owner, tenant):
    theirs = tag(factories.organization(factories.user()), owner, "secret")
    with pytest.raises(errors.NotFound):
        ledger_services.tag_update(tenant=tenant, actor=owner, tag_id=theirs.pk, changes={"name": "x"})
    with pytest.raises(errors.NotFound):
        ledger_services.tag_delete(tenant=tenant, actor=owner, tag_id=theirs.pk)
    assert Tag.objects.get(pk=theirs.pk).name == "secret"


def test_tag_pages_walk_case_insensitively_by_name(owner, tenant):
    for name in ["beta", "Alpha", "gamma", "Delta", "epsilon"]:
        tag(tenant, owner, name)
    seen, after = [], None
    while True:
        rows, after = ledger_selectors.tag_page(tenant=tenant, limit=2, after=after)
        seen += [row.name for row in rows]
        if after is None:
            break
    assert seen == ["Alpha", "beta", "Delta", "epsilon", "gamma"]
    assert [t.name for t in ledger_selectors.tag_page(tenant=tenant, limit=10, text="TA")[0]] == ["beta", "Delta"]


# --- categories and tags on transactions ------------------------------------


def test_a_transaction_created_with_a_category_and_tags_is_manual_and_audited(owner, tenant, account):
    tag(tenant, owner, "Trip")
    tag(tenant, owner, "Work")
    fuel = category(tenant, "Fuel")
    row = ledger_services.transaction_create(
        tenant=tenant, actor=owner, account_id=account.pk, booked_on=dt.date(2024, 1, 1), amount="-50",
        category_id=fuel.pk, tags=["work", "TRIP", "trip"],
    )
    assert (row.category_id, row.category_source) == (fuel.pk, "manual")
    assert tag_names(row) == ["Trip", "Work"]
    entry = AuditEntry.objects.get(action="transaction.create", object_id=str(row.pk))
    assert entry.changes["category"] == [None, str(fuel.pk)]
    assert entry.changes["category_source"] == [None, "manual"]
    assert entry.changes["tags"] == [None, ["Trip", "Work"]]


def test_setting_changing_and_clearing_a_category_by_hand(owner, tenant, account):
    row = factories.transaction(account)
    assert (row.category_id, row.category_source) == (None, "")
    fuel, car = category(tenant, "Fuel"), category(tenant, "Car")
    Transaction.objects.filter(pk=row.pk).update(category=fuel, category_source="rule")

    updated = ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk,
                                                 changes={"category_id": fuel.pk})
    assert (updated.category_id, updated.category_source) == (fuel.pk, "manual")  # confirmed by hand
    updated = ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk,
                                                 changes={"category_id": car.pk})
    assert (updated.category_id, updated.category_source) == (car.pk, "manual")
    updated = ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk,
                                                 changes={"category_id": None})
    assert (updated.category_id, updated.category_source) == (None, "")
    actions = [e.changes for e in AuditEntry.objects.filter(action="transaction.update", object_id=str(row.pk))
               .order_by("created_at", "id")]
    assert actions == [
        {"category_source": ["rule", "manual"]},
        {"category": [str(fuel.pk), str(car.pk)]},
        {"category": [str(car.pk), None], "category_source": ["manual", ""]},
    ]


def test_replacing_tags_is_audited_and_an_unchanged_list_writes_nothing(owner, tenant, account):
    for name in ("a", "b", "c"):
        tag(tenant, owner, name)
    row = factories.transaction(account, tags=["a", "b"])
    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"tags": ["c", "B"]})
    assert tag_names(row) == ["b", "c"]
    entry = AuditEntry.objects.get(action="transaction.update", object_id=str(row.pk))
    assert entry.changes == {"tags": [["a", "b"], ["b", "c"]]}
    count = AuditEntry.objects.count()
    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"tags": ["C", "b"]})
    assert AuditEntry.objects.count() == count
    ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk, changes={"tags": []})
    assert tag_names(row) == []
    assert TransactionTag.objects.filter(transaction_id=row.pk).count() == 0


def test_unknown_tags_are_refused_by_name_and_nothing_is_written(owner, tenant, account):
    tag(tenant, owner, "known")
    tag(factories.organization(owner), owner, "theirs")
    with pytest.raises(errors.ValidationError) as caught:
        factories.transaction(account, tags=["known", "nope", "theirs"])
    assert caught.value.message == "No such tag: 'nope', 'theirs'; an admin creates tags first"
    assert not Transaction.objects.filter(tenant=tenant).exists()
    assert not TransactionTag.objects.exists()


def test_more_than_the_tag_limit_on_one_transaction_is_refused(owner, tenant, account):
    names = [f"t{i}" for i in range(ledger_services.MAX_TAGS_PER_TRANSACTION + 1)]
    for name in names:
        tag(tenant, owner, name)
    with pytest.raises(errors.ValidationError) as caught:
        factories.transaction(account, tags=names)
    assert caught.value.field_errors == {"tags": f"At most {ledger_services.MAX_TAGS_PER_TRANSACTION}."}


def test_another_tenants_category_is_refused_on_a_transaction(owner, tenant, account):
    theirs = Category.objects.filter(tenant=factories.organization(factories.user()), name="Fuel").get()
    with pytest.raises(errors.ValidationError) as caught:
        factories.transaction(account, category_id=theirs.pk)
    assert caught.value.field_errors == {"category_id": "No such category in this tenant."}
    row = factories.transaction(account)
    with pytest.raises(errors.ValidationError):
        ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk,
                                           changes={"category_id": theirs.pk, "note": "changed"})
    assert Transaction.objects.filter(pk=row.pk).values_list("category_id", "note").get() == (None, "")


def test_an_archived_category_takes_no_new_transactions_but_keeps_its_own(owner, tenant, account):
    fuel = category(tenant, "Fuel")
    row = factories.transaction(account, category_id=fuel.pk)
    ledger_services.category_update(tenant=tenant, actor=owner, category_id=category(tenant, "Transport").pk,
                                    changes={"archived": True})
    with pytest.raises(errors.Conflict) as caught:
        factories.transaction(account, category_id=fuel.pk)
    assert "'Transport' is archived" in caught.value.message
    edited = ledger_services.transaction_update(tenant=tenant, actor=owner, transaction_id=row.pk,
                                                changes={"category_id": fuel.pk, "note": "still fuel"})
    assert (edited.category_id, edited.note) == (fuel.pk, "still fuel")


def test_the_list_filters_by_category_subtree_uncategorized_and_tag(owner, tenant, account):
    tag(tenant, owner, "Trip")
    fuel, car, groceries = category(tenant, "Fuel"), category(tenant, "Car"), category(tenant, "Groceries")
    in_fuel = factories.transaction(account, category_id=fuel.pk, tags=["trip"])
    in_car = factories.transaction(account, category_id=car.pk)
    in_transport = factories.transaction(account, category_id=category(tenant, "Transport").pk)
    factories.transaction(account, category_id=groceries.pk, tags=["trip"])
    loose = factories.transaction(account)

    def ids(**filters):
        return {row.pk for row in ledger_selectors.transaction_page(tenant=tenant, limit=100, **filters)[0]}

    assert ids(category=str(fuel.pk)) == {in_fuel.pk}
    assert ids(category=str(category(tenant, "Transport").pk)) == {in_fuel.pk, in_car.pk, in_transport.pk}
    assert ids(category="uncategorized") == {loose.pk}
    assert ids(category=str(fuel.pk), tag="TRIP") == {in_fuel.pk}
    assert len(ids(tag="trip")) == 2
    assert ids(tag="nothing") == set()
    other = factories.organization(owner)
    assert ids(category=str(category(other, "Fuel").pk)) == set()
    with pytest.raises(errors.ValidationError):
        ids(category="food")


def test_clearing_tags_of_a_set_of_transactions_touches_only_those(owner, tenant, account):
    tag(tenant, owner, "x")
    gone = [factories.transaction(account, tags=["x"], description="batch") for _ in range(2)]
    kept = factories.transaction(account, tags=["x"], description="kept")
    batch = Transaction.objects.filter(tenant=tenant, description="batch")
    assert ledger_services.transaction_tags_clear(tenant=tenant, transactions=batch) == 2
    assert [tag_names(row) for row in gone] == [[], []]
    assert tag_names(kept) == ["x"]
    batch._raw_delete(batch.db)  # what import undo does next: no dangling tag links refuse it
    assert list(Transaction.objects.filter(tenant=tenant)) == [kept]
