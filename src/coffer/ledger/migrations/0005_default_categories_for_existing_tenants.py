"""Give every existing tenant without categories the default category tree.

The tree is frozen here (ledger.defaults may change later; this migration must not).
One audit entry per tenant, like `category_tree_seed` writes for new tenants.
"""

from django.db import migrations
from django.utils import timezone

from coffer.ids import new_id

TREE = (
    ("Income", "income", "#2e7d32", ("Salary", "Interest", "Refunds", "Other income")),
    ("Housing", "expense", "#6d4c41", ("Rent / mortgage", "Utilities", "Maintenance")),
    ("Food", "expense", "#ef6c00", ("Groceries", "Restaurants")),
    ("Transport", "expense", "#1565c0", ("Fuel", "Public transport", "Car")),
    ("Shopping", "expense", "#ad1457", ("Clothing", "Electronics", "Household")),
    ("Health", "expense", "#c62828", ("Doctor", "Pharmacy")),
    ("Leisure", "expense", "#6a1b9a", ("Travel", "Sports", "Entertainment")),
    ("Subscriptions", "expense", "#00838f", ("Streaming", "Software", "Phone & internet")),
    ("Insurance", "expense", "#455a64", ()),
    ("Education", "expense", "#283593", ()),
    ("Gifts & donations", "expense", "#d81b60", ()),
    ("Fees & charges", "expense", "#757575", (
        "Account fees", "Card fees", "Foreign exchange fees", "Overdraft & interest", "Late fees",
    )),
    ("Taxes", "expense", "#4e342e", ()),
    ("Transfers", "transfer", "#9e9e9e", ()),
)


def seed(apps, schema_editor):
    Tenant = apps.get_model("tenancy", "Tenant")
    Category = apps.get_model("ledger", "Category")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    with_categories = Category.objects.values("tenant_id")
    pending = Tenant.objects.exclude(pk__in=with_categories).order_by("pk").values_list("pk", flat=True)
    now = timezone.now()
    for tenant_id in list(pending):
        parents, children = [], []
        for name, kind, color, child_names in TREE:
            parent = Category(id=new_id(), tenant_id=tenant_id, name=name, kind=kind, color=color,
                              created_at=now, updated_at=now)
            parents.append(parent)
            children += [
                Category(id=new_id(), tenant_id=tenant_id, parent_id=parent.id, name=child, kind=kind,
                         created_at=now, updated_at=now)
                for child in child_names
            ]
        Category.objects.bulk_create(parents)
        Category.objects.bulk_create(children)
        AuditEntry.objects.create(
            id=new_id(), tenant_id=tenant_id, actor=None, action="category.seed", object_type="category", object_id="",
            changes={"categories": [0, len(parents) + len(children)]}, created_at=now,
        )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_initial"),
        ("ledger", "0004_categories_and_tags"),
        ("tenancy", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
