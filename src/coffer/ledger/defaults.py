"""The category tree every new tenant starts with, and the per-tenant limits on categories and tags.

DEFAULT_TREE: (name, kind, color, [subcategory names]).

Editable afterwards like any category. The data migration that gave existing tenants this
tree keeps its own frozen copy, so changing this list changes only tenants created later.
"""

from __future__ import annotations

INCOME, EXPENSE, TRANSFER = "income", "expense", "transfer"

# The category tree is listed whole (no pages), so it is bounded here; tags are paged but bounded too.
MAX_CATEGORIES_PER_TENANT = 500
MAX_TAGS_PER_TENANT = 1000
MAX_TAGS_PER_TRANSACTION = 20

DEFAULT_TREE: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Income", INCOME, "#2e7d32", ("Salary", "Interest", "Refunds", "Other income")),
    ("Housing", EXPENSE, "#6d4c41", ("Rent / mortgage", "Utilities", "Maintenance")),
    ("Food", EXPENSE, "#ef6c00", ("Groceries", "Restaurants")),
    ("Transport", EXPENSE, "#1565c0", ("Fuel", "Public transport", "Car")),
    ("Shopping", EXPENSE, "#ad1457", ("Clothing", "Electronics", "Household")),
    ("Health", EXPENSE, "#c62828", ("Doctor", "Pharmacy")),
    ("Leisure", EXPENSE, "#6a1b9a", ("Travel", "Sports", "Entertainment")),
    ("Subscriptions", EXPENSE, "#00838f", ("Streaming", "Software", "Phone & internet")),
    ("Insurance", EXPENSE, "#455a64", ()),
    ("Education", EXPENSE, "#283593", ()),
    ("Gifts & donations", EXPENSE, "#d81b60", ()),
    ("Fees & charges", EXPENSE, "#757575", (
        "Account fees", "Card fees", "Foreign exchange fees", "Overdraft & interest", "Late fees",
    )),
    ("Taxes", EXPENSE, "#4e342e", ()),
    ("Transfers", TRANSFER, "#9e9e9e", ()),
)


def default_category_count() -> int:
    return sum(1 + len(children) for *_, children in DEFAULT_TREE)
