"""Forms of the web app's ledger pages. They only parse and label input; the rules live in the
ledger services (whose errors web.form_errors pins to the matching field)."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

from django import forms

from coffer import money
from coffer.ledger.models import Account, Category
from coffer.web import formatting

UNCATEGORIZED = "uncategorized"  # ledger.selectors.UNCATEGORIZED: the filter value for "no category"
BULK_MAX = 500  # ledger.services.BULK_MAX_TRANSACTIONS
TAG_NAME_MAX = 50


def _amount_field(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(max_digits=money.AMOUNT_MAX_DIGITS, decimal_places=money.AMOUNT_DECIMAL_PLACES, **kwargs)


def expense_category_choices(tree: list[Category], *, empty_label: str) -> list[tuple[str, str]]:
    """The expense categories of a tree (ledger.selectors.category_tree) as "Top › Sub" choices."""
    choices = [("", empty_label)]
    for top in tree:
        for category in (top, *top.subcategories):
            if category.kind == Category.Kind.EXPENSE:
                label = category.name if category.parent_id is None else f"{top.name} › {category.name}"
                choices.append((str(category.pk), label))
    return choices


class CategoryIndex:
    """The tenant's category tree (ledger.selectors.category_tree with archived ones) as the forms and rows
    need it: labels such as "Food › Groceries", choices grouped by kind, lookups by id — no query per row."""

    def __init__(self, tree: list[Category]):
        self.tree = tree
        self.by_id: dict = {}
        self.labels: dict = {}
        for top in tree:
            self.by_id[top.pk] = top
            self.labels[top.pk] = top.name
            for sub in top.subcategories:
                self.by_id[sub.pk] = sub
                self.labels[sub.pk] = f"{top.name} › {sub.name}"

    def label(self, category_id) -> str:
        return self.labels.get(category_id, "")

    def archived(self, category_id) -> bool:
        """Archived itself, or under an archived parent."""
        category = self.by_id.get(category_id)
        if category is None:
            return False
        parent = self.by_id.get(category.parent_id)
        return category.archived or (parent is not None and parent.archived)

    def choices(self, *, archived: bool, keep=None) -> list:
        """Categories grouped by kind in tree order; archived ones only with `archived` (marked), or `keep`."""
        groups: dict[str, list] = {kind: [] for kind in Category.Kind.values}
        for top in self.tree:
            for category in (top, *top.subcategories):
                gone = self.archived(category.pk)
                if gone and not archived and category.pk != keep:
                    continue
                label = self.labels[category.pk] + (" (archived)" if gone else "")
                groups[category.kind].append((str(category.pk), label))
        return [(Category.Kind(kind).label, options) for kind, options in groups.items() if options]

    def label_rows(self, rows) -> None:
        """Give each transaction its category's label (`category_label`) without touching the relation."""
        for row in rows:
            row.category_label = self.label(row.category_id) if row.category_id else ""


def tag_names(value: str) -> list[str]:
    """ "rent, Home ,rent" -> ["rent", "Home"]: comma-separated names, blanks and repeats dropped."""
    seen: dict[str, str] = {}
    for part in (value or "").split(","):
        name = " ".join(part.split())
        if name:
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


class AccountForm(forms.Form):
    name = forms.CharField(max_length=120)
    type = forms.ChoiceField(choices=Account.Type.choices, initial=Account.Type.CHECKING)
    currency = forms.CharField(max_length=3, min_length=3, initial="EUR", help_text="ISO 4217 code, such as EUR or USD.")
    opening_balance = _amount_field(initial="0.00", label="Opening balance")
    institution = forms.CharField(max_length=120, required=False, label="Bank or institution")
    account_number = forms.CharField(max_length=64, required=False, label="Account number (IBAN)")

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    @classmethod
    def for_account(cls, account: Account, data=None) -> AccountForm:
        return cls(data, initial={
            "name": account.name, "type": account.type, "currency": account.currency,
            "opening_balance": formatting.plain(account.opening_balance), "institution": account.institution,
            "account_number": account.account_number,
        })


class TransactionForm(forms.Form):
    booked_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(max_length=500, required=False)
    amount = _amount_field(help_text="Negative for money going out, e.g. -12.50.")
    account = forms.ChoiceField()  # choices: the tenant's open accounts, given by the view
    counterparty = forms.CharField(max_length=200, required=False)
    reference = forms.CharField(max_length=200, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    category = forms.ChoiceField(required=False)  # choices: the tenant's categories, given by the view
    tags = forms.CharField(required=False, max_length=1100, help_text="Existing tag names, separated by commas.")

    def __init__(self, *args, accounts: list[Account], categories: CategoryIndex, current_category=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(str(a.pk), f"{a.name} ({a.currency})") for a in accounts]
        self.fields["category"].choices = [("", "— Uncategorized —"),
                                           *categories.choices(archived=False, keep=current_category)]
        self.fields["tags"].widget.attrs["list"] = "tag-names"  # a <datalist> of the tenant's tags, when shown
        self.current_category = current_category
        self.current_tags: list[str] | None = None

    @classmethod
    def for_transaction(cls, row, *, accounts: list[Account], categories: CategoryIndex, data=None,
                        inline: bool = False) -> TransactionForm:
        """`inline`: the form is a row of the list, so its ids carry the row's (several rows may be open at
        once, next to the filter form's fields)."""
        names = [tag.name for tag in row.tags.all()]
        form = cls(data, accounts=accounts, categories=categories, current_category=row.category_id,
                   auto_id=f"txn_{row.pk.hex}_%s" if inline else "id_%s", initial={
            "account": str(row.account_id), "booked_on": row.booked_on, "amount": formatting.plain(row.amount),
            "description": row.description, "counterparty": row.counterparty, "reference": row.reference,
            "note": row.note, "category": str(row.category_id or ""), "tags": ", ".join(names),
        })
        form.current_tags = names
        return form

    def clean_tags(self) -> list[str]:
        names = tag_names(self.cleaned_data.get("tags") or "")
        too_long = next((name for name in names if len(name) > TAG_NAME_MAX), None)
        if too_long:
            raise forms.ValidationError(f"A tag name has at most {TAG_NAME_MAX} characters.")
        return names

    def service_fields(self) -> dict:
        """What the ledger service takes; an edit sends the category and tags only when they changed, so saving
        a note does not turn a category a rule set into a manual one."""
        data = dict(self.cleaned_data)
        data["account_id"] = data.pop("account")
        category = data.pop("category") or None
        tags = data.pop("tags")
        if self.current_tags is None:  # a new transaction
            data["category_id"], data["tags"] = category, tags
            return data
        if category != (str(self.current_category) if self.current_category else None):
            data["category_id"] = category
        if {name.casefold() for name in tags} != {name.casefold() for name in self.current_tags}:
            data["tags"] = tags
        return data


class TransactionFilterForm(forms.Form):
    account = forms.ChoiceField(required=False)
    booked_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    booked_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    amount_min = _amount_field(required=False, label="Min amount")
    amount_max = _amount_field(required=False, label="Max amount")
    q = forms.CharField(required=False, max_length=200, label="Text")
    category = forms.ChoiceField(required=False, help_text="A category includes its subcategories.")
    tag = forms.CharField(required=False, max_length=TAG_NAME_MAX)
    sort = forms.ChoiceField(required=False, choices=[  # ledger.selectors.TRANSACTION_SORTS
        ("-booked_on", "Newest first"), ("booked_on", "Oldest first"),
        ("-amount", "Largest amount"), ("amount", "Smallest amount"),
    ])

    def __init__(self, *args, accounts: list[Account], categories: CategoryIndex, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "All accounts")] + [(str(a.pk), a.name) for a in accounts]
        self.fields["category"].choices = [("", "All categories"), (UNCATEGORIZED, "Uncategorized"),
                                           *categories.choices(archived=True)]
        self.fields["tag"].widget.attrs["list"] = "tag-names"

    def clean(self):
        """The selector's own checks, so an export is refused before its first byte (same messages)."""
        data = super().clean()
        if data.get("booked_from") and data.get("booked_to") and data["booked_from"] > data["booked_to"]:
            self.add_error("booked_from", "After the “To” date.")
        if data.get("amount_min") is not None and data.get("amount_max") is not None \
                and data["amount_min"] > data["amount_max"]:
            self.add_error("amount_min", "Above the max amount.")
        return data

    def selector_filters(self) -> dict:
        data = self.cleaned_data
        return {
            "account_id": data.get("account") or None, "booked_from": data.get("booked_from"),
            "booked_to": data.get("booked_to"), "amount_min": data.get("amount_min"),
            "amount_max": data.get("amount_max"), "text": (data.get("q") or "").strip(),
            "category": data.get("category") or None, "tag": " ".join((data.get("tag") or "").split()) or None,
            "sort": data.get("sort") or "-booked_on",
        }


class _AnyIds(forms.MultipleChoiceField):
    """Ticked row ids as sent; the ledger service decides which are the tenant's transactions."""

    def valid_value(self, value) -> bool:
        return isinstance(value, str) and len(value) <= 64


class BulkTransactionsForm(forms.Form):
    """The bulk bar of the transactions list: the ticked rows and what to do with them."""

    ACTIONS = {"set_category": "Set category", "add_tag": "Add tag", "remove_tag": "Remove tag", "delete": "Delete"}

    rows = _AnyIds(required=False)
    action = forms.ChoiceField(choices=list(ACTIONS.items()))
    category = forms.ChoiceField(required=False, label="Category")
    tag = forms.CharField(required=False, max_length=TAG_NAME_MAX, label="Tag")

    def __init__(self, *args, categories: CategoryIndex, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Choose a category…"), (UNCATEGORIZED, "Uncategorized (clear)"),
                                           *categories.choices(archived=False)]
        self.fields["tag"].widget.attrs.update({"list": "tag-names", "placeholder": "Tag name"})

    def clean_rows(self) -> list[str]:
        rows = list(dict.fromkeys(self.cleaned_data.get("rows") or []))
        if not rows:
            raise forms.ValidationError("Select at least one transaction.")
        if len(rows) > BULK_MAX:
            raise forms.ValidationError(f"Select at most {BULK_MAX} transactions at once ({len(rows)} were selected).")
        return rows

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "set_category" and not data.get("category"):
            self.add_error("category", "Choose the category to set.")
        if action in ("add_tag", "remove_tag") and not (data.get("tag") or "").strip():
            self.add_error("tag", "Give the name of the tag.")
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {"transaction_ids": data["rows"], "action": data["action"]}
        if data["action"] == "set_category":
            fields["category_id"] = None if data["category"] == UNCATEGORIZED else data["category"]
        if data["action"] in ("add_tag", "remove_tag"):
            fields["tag"] = data["tag"]
        return fields

    def done(self, count: int) -> str:
        data = self.cleaned_data
        things = f"{count} transaction{'s' if count != 1 else ''}"
        if data["action"] == "delete":
            return f"Deleted {things}."
        if data["action"] == "set_category":
            return f"Category set on {things}." if data["category"] != UNCATEGORIZED else f"Category cleared on {things}."
        if data["action"] == "add_tag":
            return f"Tag “{data['tag'].strip()}” added to {things}."
        return f"Tag “{data['tag'].strip()}” removed from {things}."


# --- the dashboard's period -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


class SpendingPeriodForm(forms.Form):
    PERIODS = [("this_month", "This month"), ("last_month", "Last month"), ("last_3_months", "Last 3 months"),
               ("this_year", "This year"), ("custom", "Custom range")]

    period = forms.ChoiceField(choices=PERIODS, required=False, label="Period")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom" and not self.errors:
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", "Give the first day of the range.")
            if end is None:
                self.add_error("end", "Give the last day of the range.")
            if start and end and start > end:
                self.add_error("start", "The range starts after it ends.")
            elif start and end and (end - start).days > 3660:
                self.add_error("start", "A range covers at most ten years.")
        return data

    def period_for(self, today: dt.date) -> Period | None:
        """The chosen period (this month when none), or None while the form has errors."""
        if not self.is_valid():
            return None
        chosen = self.cleaned_data.get("period") or "this_month"
        if chosen == "custom":
            start, end = self.cleaned_data["start"], self.cleaned_data["end"]
            return Period(start, end, f"{formatting.day(start)} – {formatting.day(end)}")
        if chosen == "last_month":
            start = _month_start(today, 1)
            return Period(start, _month_end(start), start.strftime("%B %Y"))
        if chosen == "last_3_months":
            start = _month_start(today, 2)
            return Period(start, _month_end(today), f"{start:%B} – {today:%B %Y}")
        if chosen == "this_year":
            return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31), str(today.year))
        start = _month_start(today)
        return Period(start, _month_end(today), start.strftime("%B %Y"))


# --- categories and tags ---------------------------------------------------------------------


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=80)
    parent = forms.ChoiceField(required=False, label="Under",
                               help_text="Categories are two levels deep: a subcategory sits under a top-level one.")
    kind = forms.ChoiceField(choices=Category.Kind.choices, required=False,
                             help_text="A subcategory has its parent's kind.")
    color = forms.RegexField(regex=r"^#[0-9a-fA-F]{6}$", required=False, max_length=7,
                             help_text="Optional, such as #1e88e5.",
                             error_messages={"invalid": "A colour such as #1e88e5, or empty."})

    def __init__(self, *args, categories: CategoryIndex, category: Category | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        self.fields["parent"].choices = [("", "Nothing (top level)")] + [
            (str(top.pk), f"{top.name} ({top.get_kind_display().lower()})") for top in categories.tree
            if (not top.archived or (category is not None and top.pk == category.parent_id))
            and (category is None or top.pk != category.pk)
        ]
        self.fields["color"].widget.attrs["placeholder"] = "#1e88e5"
        self.initial.setdefault("kind", Category.Kind.EXPENSE)
        if category is not None:
            self.initial.update({"name": category.name, "parent": str(category.parent_id or ""),
                                 "kind": category.kind, "color": category.color})

    def clean(self):
        data = super().clean()
        if not data.get("parent") and not data.get("kind") and "kind" not in self.errors:
            self.add_error("kind", "A top-level category needs a kind.")
        return data

    def create_fields(self) -> dict:
        data = self.cleaned_data
        parent = data.get("parent") or None
        return {"name": data["name"], "parent_id": parent, "kind": None if parent else data["kind"],
                "color": data.get("color") or ""}

    def changes(self) -> dict:
        """Every field the form shows; the service writes only what differs (a subcategory keeps its parent's kind)."""
        data = self.cleaned_data
        parent = data.get("parent") or None
        changes = {"name": data["name"], "parent_id": parent, "color": data.get("color") or ""}
        if parent is None:
            changes["kind"] = data["kind"]
        return changes


class CategoryDeleteForm(forms.Form):
    reassign_to = forms.ChoiceField(required=False, label="Move its transactions to")

    def __init__(self, *args, categories: CategoryIndex, category: Category, **kwargs):
        super().__init__(*args, **kwargs)
        options = [(group, [(value, label) for value, label in choices if value != str(category.pk)])
                   for group, choices in categories.choices(archived=False)]
        self.fields["reassign_to"].choices = [("", "Nowhere: they become uncategorized"),
                                              *[(group, choices) for group, choices in options if choices]]


class TagForm(forms.Form):
    name = forms.CharField(max_length=TAG_NAME_MAX)
