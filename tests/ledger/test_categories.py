"""Categories in the ledger services: default tree, two levels, kinds, names, archive, delete."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.ledger import defaults
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Category, Transaction
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return factories.user()


@pytest.fixture
def tenant(owner):
    return factories.organization(owner)


def create(tenant, owner, name, **kwargs) -> Category:
    return ledger_services.category_create(tenant=tenant, actor=owner, name=name, **kwargs)


def named(tenant, name, parent: str | None = None) -> Category:
    query = Category.objects.filter(tenant=tenant, name=name)
    return query.get(parent__name=parent) if parent else query.get(parent__isnull=True)


def tree_names(tenant, **kwargs) -> dict[str, list[str]]:
    return {
        top.name: [child.name for child in top.subcategories]
        for top in ledger_selectors.category_tree(tenant=tenant, **kwargs)
    }


# --- the default tree ------------------------------------------------------


def test_sign_up_gives_the_personal_space_the_default_tree():
    person = factories.user()
    space = person.memberships.get().tenant
    tree = tree_names(space)
    assert tree["Food"] == ["Groceries", "Restaurants"]
    assert tree["Income"] == ["Interest", "Other income", "Refunds", "Salary"]
    assert tree["Transport"] == ["Car", "Fuel", "Public transport"]
    assert {"Housing", "Shopping", "Health", "Leisure", "Subscriptions", "Fees & charges", "Taxes", "Transfers"} <= set(tree)
    assert Category.objects.filter(tenant=space).count() == defaults.default_category_count()
    assert named(space, "Salary", "Income").kind == "income"
    assert named(space, "Rent / mortgage", "Housing").kind == "expense"
    assert named(space, "Transfers").kind == "transfer"
    entry = AuditEntry.objects.get(tenant=space, action="category.seed")
    assert entry.actor_id == person.pk
    assert entry.changes == {"categories": [0, defaults.default_category_count()]}


def test_a_new_organization_gets_its_own_default_tree(owner, tenant):
    personal = owner.memberships.exclude(tenant=tenant).get().tenant
    assert Category.objects.filter(tenant=tenant).count() == defaults.default_category_count()
    mine = set(Category.objects.filter(tenant=tenant).values_list("pk", flat=True))
    theirs = set(Category.objects.filter(tenant=personal).values_list("pk", flat=True))
    assert mine and theirs and not mine & theirs
    # every subcategory's parent is in the same tenant and top-level
    for child in Category.objects.filter(tenant=tenant, parent__isnull=False).select_related("parent"):
        assert child.parent.tenant_id == tenant.pk and child.parent.parent_id is None
        assert child.kind == child.parent.kind


def test_seeding_again_leaves_an_edited_tree_alone(owner, tenant):
    ledger_services.category_update(tenant=tenant, actor=owner, category_id=named(tenant, "Food").pk,
                                    changes={"name": "Eating"})
    assert ledger_services.category_tree_seed(tenant=tenant, actor=owner) == 0
    assert Category.objects.filter(tenant=tenant).count() == defaults.default_category_count()
    assert "Eating" in tree_names(tenant) and "Food" not in tree_names(tenant)


def test_the_data_migration_gives_existing_tenants_without_categories_the_tree(owner, tenant):
    migration = importlib.import_module("coffer.ledger.migrations.0005_default_categories_for_existing_tenants")
    bare = factories.organization(owner)
    Category.objects.filter(tenant=bare).delete()  # as a tenant created before categories existed
    create(tenant, owner, "Pets", kind="expense")
    before = set(Category.objects.filter(tenant=tenant).values_list("pk", "name"))

    migration.seed(django_apps, None)

    assert set(Category.objects.filter(tenant=tenant).values_list("pk", "name")) == before
    assert tree_names(bare)["Food"] == ["Groceries", "Restaurants"]
    assert Category.objects.filter(tenant=bare).count() == defaults.default_category_count()
    assert AuditEntry.objects.filter(tenant=bare, action="category.seed", actor=None).count() == 1
    assert not AuditEntry.objects.filter(tenant=tenant, action="category.seed", actor=None).exists()
    migration.seed(django_apps, None)
    assert Category.objects.filter(tenant=bare).count() == defaults.default_category_count()
    assert AuditEntry.objects.filter(tenant=bare, action="category.seed", actor=None).count() == 1


def test_the_frozen_migration_tree_matches_the_defaults_it_was_written_from():
    migration = importlib.import_module("coffer.ledger.migrations.0005_default_categories_for_existing_tenants")
    assert migration.TREE == defaults.DEFAULT_TREE


# --- creating -------------------------------------------------------------


def test_a_subcategory_takes_its_parents_kind(owner, tenant):
    pets = create(tenant, owner, " Pets ", kind="expense", color="#AABBCC")
    food = create(tenant, owner, "Pet  food", parent_id=pets.pk)
    assert (pets.name, pets.color, food.name, food.kind, food.parent_id) == ("Pets", "#aabbcc", "Pet food", "expense", pets.pk)
    entry = AuditEntry.objects.get(action="category.create", object_id=str(food.pk))
    assert entry.changes["parent"] == [None, str(pets.pk)]
    assert entry.changes["kind"] == [None, "expense"]


def test_a_subcategory_with_another_kind_than_its_parent_is_refused(owner, tenant):
    with pytest.raises(errors.ValidationError) as caught:
        create(tenant, owner, "Bonus", kind="income", parent_id=named(tenant, "Food").pk)
    assert "parent's kind" in caught.value.message
    assert not Category.objects.filter(name="Bonus").exists()


def test_a_top_level_category_needs_a_kind(owner, tenant):
    with pytest.raises(errors.ValidationError) as caught:
        create(tenant, owner, "Pets")
    assert caught.value.field_errors == {"kind": "One of income, expense, transfer."}


def test_categories_are_two_levels_deep(owner, tenant):
    groceries = named(tenant, "Groceries", "Food")
    with pytest.raises(errors.ValidationError) as caught:
        create(tenant, owner, "Organic", parent_id=groceries.pk)
    assert "two levels deep" in caught.value.message
    assert caught.value.field_errors == {"parent_id": "Not a top-level category."}
    assert not Category.objects.filter(name="Organic").exists()


def test_another_tenants_category_cannot_be_a_parent(owner, tenant):
    other = factories.organization(factories.user())
    with pytest.raises(errors.ValidationError) as caught:
        create(tenant, owner, "Pets", parent_id=named(other, "Food").pk)
    assert caught.value.field_errors == {"parent_id": "No such category in this tenant."}
    assert not Category.objects.filter(name="Pets").exists()


@pytest.mark.parametrize("name", ["Groceries", "groceries", " GROCERIES "])
def test_names_are_unique_under_one_parent_case_insensitively(owner, tenant, name):
    with pytest.raises(errors.Conflict) as caught:
        create(tenant, owner, name, parent_id=named(tenant, "Food").pk)
    assert caught.value.message == f"A category named {name.strip()!r} already exists under 'Food'"
    assert caught.value.field_errors == {"name": "Already taken."}


def test_the_same_name_is_fine_under_another_parent_or_in_another_tenant(owner, tenant):
    create(tenant, owner, "Groceries", parent_id=named(tenant, "Shopping").pk)
    other = factories.organization(owner)
    create(other, owner, "Pets", kind="expense")
    create(tenant, owner, "Pets", kind="expense")
    with pytest.raises(errors.Conflict) as caught:
        create(tenant, owner, "pets", kind="income")
    assert "at the top level" in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"name": "  "}, "name"), ({"name": "x" * 81}, "name"), ({"name": "Pets", "kind": "loss"}, "kind"),
     ({"name": "Pets", "kind": "expense", "color": "red"}, "color"),
     ({"name": "Pets", "kind": "expense", "color": "#12345"}, "color")],
)
def test_bad_category_input_is_refused_naming_the_field(owner, tenant, kwargs, field):
    count = Category.objects.filter(tenant=tenant).count()
    with pytest.raises(errors.ValidationError) as caught:
        ledger_services.category_create(tenant=tenant, actor=owner, **kwargs)
    assert field in caught.value.field_errors
    assert Category.objects.filter(tenant=tenant).count() == count


def test_a_tenant_has_at_most_the_category_limit(owner, tenant, monkeypatch):
    monkeypatch.setattr(ledger_services, "MAX_CATEGORIES_PER_TENANT", defaults.default_category_count() + 1)
    create(tenant, owner, "Pets", kind="expense")
    with pytest.raises(errors.Conflict) as caught:
        create(tenant, owner, "Garden", kind="expense")
    assert f"at most {defaults.default_category_count() + 1} categories" in caught.value.message
    assert not Category.objects.filter(name="Garden").exists()


# --- updating -------------------------------------------------------------


def update(tenant, owner, category, **changes) -> Category:
    return ledger_services.category_update(tenant=tenant, actor=owner, category_id=category.pk, changes=changes)


def test_moving_a_subcategory_under_another_parent_takes_that_parents_kind(owner, tenant):
    refunds = named(tenant, "Refunds", "Income")
    moved = update(tenant, owner, refunds, parent_id=named(tenant, "Shopping").pk)
    assert (moved.parent.name, moved.kind) == ("Shopping", "expense")
    entry = AuditEntry.objects.get(action="category.update", object_id=str(refunds.pk))
    assert entry.changes == {"parent": [str(named(tenant, "Income").pk), str(named(tenant, "Shopping").pk)],
                             "kind": ["income", "expense"]}


def test_a_subcategory_can_become_top_level_and_keeps_its_kind(owner, tenant):
    salary = update(tenant, owner, named(tenant, "Salary", "Income"), parent_id=None)
    assert (salary.parent_id, salary.kind) == (None, "income")
    assert "Salary" in tree_names(tenant)


def test_a_category_with_subcategories_cannot_move_under_another(owner, tenant):
    with pytest.raises(errors.Conflict) as caught:
        update(tenant, owner, named(tenant, "Food"), parent_id=named(tenant, "Housing").pk)
    assert "has 2 subcategories" in caught.value.message
    assert named(tenant, "Food").parent_id is None


def test_a_category_cannot_move_under_a_subcategory_or_itself(owner, tenant):
    pets = create(tenant, owner, "Pets", kind="expense")
    with pytest.raises(errors.ValidationError):
        update(tenant, owner, pets, parent_id=named(tenant, "Fuel", "Transport").pk)
    with pytest.raises(errors.ValidationError) as caught:
        update(tenant, owner, pets, parent_id=pets.pk)
    assert caught.value.field_errors == {"parent_id": "That is this category."}
    assert Category.objects.get(pk=pets.pk).parent_id is None


def test_moving_into_a_parent_that_has_the_name_already_is_refused(owner, tenant):
    cars = create(tenant, owner, "Car", kind="expense")
    with pytest.raises(errors.Conflict):
        update(tenant, owner, cars, parent_id=named(tenant, "Transport").pk)
    assert Category.objects.get(pk=cars.pk).parent_id is None


def test_a_subcategorys_kind_cannot_differ_from_its_parents(owner, tenant):
    with pytest.raises(errors.ValidationError):
        update(tenant, owner, named(tenant, "Fuel", "Transport"), kind="income")
    assert named(tenant, "Fuel", "Transport").kind == "expense"


def test_changing_a_top_level_kind_changes_its_subcategories(owner, tenant):
    update(tenant, owner, named(tenant, "Food"), kind="income")
    assert set(Category.objects.filter(tenant=tenant, parent__name="Food").values_list("kind", flat=True)) == {"income"}
    entry = AuditEntry.objects.get(action="category.update", object_id=str(named(tenant, "Food").pk))
    assert entry.changes == {"kind": ["expense", "income"], "subcategories_kind": [None, 2]}


def test_renaming_to_a_case_variant_of_itself_is_allowed_and_a_no_op_writes_nothing(owner, tenant):
    food = named(tenant, "Food")
    update(tenant, owner, food, name="FOOD")
    assert named(tenant, "FOOD").pk == food.pk
    count = AuditEntry.objects.count()
    update(tenant, owner, named(tenant, "FOOD"), name="FOOD", color=food.color, archived=False)
    assert AuditEntry.objects.count() == count


def test_renaming_to_a_siblings_name_is_refused(owner, tenant):
    with pytest.raises(errors.Conflict):
        update(tenant, owner, named(tenant, "Restaurants", "Food"), name="groceries")
    assert named(tenant, "Restaurants", "Food")


def test_unknown_fields_are_refused(owner, tenant):
    with pytest.raises(errors.ValidationError) as caught:
        update(tenant, owner, named(tenant, "Food"), tenant_id="x")
    assert caught.value.field_errors == {"tenant_id": "Unknown field."}


def test_archived_categories_leave_the_tree_unless_asked_for(owner, tenant):
    update(tenant, owner, named(tenant, "Food"), archived=True)
    update(tenant, owner, named(tenant, "Fuel", "Transport"), archived=True)
    tree = tree_names(tenant)
    assert "Food" not in tree and tree["Transport"] == ["Car", "Public transport"]
    everything = tree_names(tenant, include_archived=True)
    assert everything["Food"] == ["Groceries", "Restaurants"] and "Fuel" in everything["Transport"]


def test_an_archived_parent_takes_no_new_subcategories(owner, tenant):
    update(tenant, owner, named(tenant, "Food"), archived=True)
    with pytest.raises(errors.Conflict):
        create(tenant, owner, "Snacks", parent_id=named(tenant, "Food").pk)


def test_category_tree_is_one_query(owner, tenant, django_assert_num_queries):
    with django_assert_num_queries(1):
        tree = ledger_selectors.category_tree(tenant=tenant, include_archived=True)
        assert sum(len(top.subcategories) for top in tree) > 20


# --- deleting -------------------------------------------------------------


@pytest.fixture
def account(tenant):
    return factories.account(tenant)


def test_deleting_a_category_leaves_its_transactions_uncategorized(owner, tenant, account):
    groceries = named(tenant, "Groceries", "Food")
    used = [factories.transaction(account, category_id=groceries.pk) for _ in range(3)]
    elsewhere = factories.transaction(account, category_id=named(tenant, "Fuel", "Transport").pk)

    assert ledger_services.category_delete(tenant=tenant, actor=owner, category_id=groceries.pk) == 3

    assert not Category.objects.filter(pk=groceries.pk).exists()
    assert set(Transaction.objects.filter(pk__in=[t.pk for t in used]).values_list("category_id", "category_source")) == {(None, "")}
    assert Transaction.objects.get(pk=elsewhere.pk).category_id is not None
    entry = AuditEntry.objects.get(action="category.delete", object_id=str(groceries.pk))
    assert entry.changes["transactions"] == [3, 0]
    assert entry.changes["name"] == ["Groceries", None]


def test_deleting_a_category_can_reassign_its_transactions(owner, tenant, account):
    groceries, restaurants = named(tenant, "Groceries", "Food"), named(tenant, "Restaurants", "Food")
    row = factories.transaction(account, category_id=groceries.pk)
    ledger_services.category_delete(tenant=tenant, actor=owner, category_id=groceries.pk, reassign_to=restaurants.pk)
    assert Transaction.objects.filter(pk=row.pk).values_list("category_id", "category_source").get() == (restaurants.pk, "manual")
    entry = AuditEntry.objects.get(action="category.delete", object_id=str(groceries.pk))
    assert entry.changes["reassigned_to"] == [None, str(restaurants.pk)]


@pytest.mark.parametrize("target", ["self", "archived", "other tenant"])
def test_reassigning_to_a_category_that_cannot_take_them_deletes_nothing(owner, tenant, account, target):
    groceries = named(tenant, "Groceries", "Food")
    row = factories.transaction(account, category_id=groceries.pk)
    if target == "self":
        to = groceries
    elif target == "archived":
        to = update(tenant, owner, named(tenant, "Restaurants", "Food"), archived=True)
    else:
        to = named(factories.organization(factories.user()), "Restaurants", "Food")
    with pytest.raises((errors.ValidationError, errors.Conflict)):
        ledger_services.category_delete(tenant=tenant, actor=owner, category_id=groceries.pk, reassign_to=to.pk)
    assert Category.objects.filter(pk=groceries.pk).exists()
    assert Transaction.objects.get(pk=row.pk).category_id == groceries.pk


def test_a_parent_with_subcategories_cannot_be_deleted(owner, tenant):
    audit = AuditEntry.objects.count()
    with pytest.raises(errors.Conflict) as caught:
        ledger_services.category_delete(tenant=tenant, actor=owner, category_id=named(tenant, "Food").pk)
    assert caught.value.message == "'Food' has 2 subcategories; move or delete them first"
    assert Category.objects.filter(tenant=tenant, name="Food").exists()
    assert AuditEntry.objects.count() == audit


def test_once_its_subcategories_are_gone_a_parent_can_be_deleted(owner, tenant):
    food = named(tenant, "Food")
    update(tenant, owner, named(tenant, "Groceries", "Food"), parent_id=named(tenant, "Shopping").pk)
    ledger_services.category_delete(tenant=tenant, actor=owner, category_id=named(tenant, "Restaurants", "Food").pk)
    ledger_services.category_delete(tenant=tenant, actor=owner, category_id=food.pk)
    assert not Category.objects.filter(pk=food.pk).exists()
    assert tree_names(tenant)["Shopping"] == ["Clothing", "Electronics", "Groceries", "Household"]


def test_another_tenants_category_is_not_found(owner, tenant):
    theirs = named(factories.organization(factories.user()), "Food")
    for call in (
        lambda: ledger_services.category_update(tenant=tenant, actor=owner, category_id=theirs.pk, changes={"name": "x"}),
        lambda: ledger_services.category_delete(tenant=tenant, actor=owner, category_id=theirs.pk),
        lambda: ledger_selectors.category_get(tenant=tenant, category_id=theirs.pk),
    ):
        with pytest.raises(errors.NotFound):
            call()
    assert Category.objects.get(pk=theirs.pk).name == "Food"


def test_deleting_a_tenant_deletes_its_categories_tags_and_tagged_transactions(owner, tenant, account):
    from coffer.ledger.models import Tag, TransactionTag
    from coffer.tenancy import services as tenancy_services

    ledger_services.tag_create(tenant=tenant, actor=owner, name="trip")
    factories.transaction(account, category_id=named(tenant, "Fuel", "Transport").pk, tags=["trip"])
    tenancy_services.tenant_delete(tenant=tenant, actor=owner)
    assert not Category.objects.filter(tenant_id=tenant.pk).exists()
    assert not Tag.objects.filter(tenant_id=tenant.pk).exists()
    assert not TransactionTag.objects.filter(tenant_id=tenant.pk).exists()
    assert not Transaction.objects.filter(tenant_id=tenant.pk).exists()
