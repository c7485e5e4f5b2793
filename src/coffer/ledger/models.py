from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from coffer.ids import new_id
from coffer.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs)


class Account(models.Model):
    class Type(models.TextChoices):
        CHECKING = "checking", "Checking"
        SAVINGS = "savings", "Savings"
        CREDIT_CARD = "credit_card", "Credit card"
        CASH = "cash", "Cash"
        LOAN = "loan", "Loan"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.CHECKING)
    currency = models.CharField(max_length=3)
    opening_balance = money_field(default=Decimal("0"))
    # Kept equal to opening_balance + SUM(transactions.amount) by the ledger services,
    # with relative UPDATEs inside the writing transaction so concurrent writers add up.
    balance = money_field(default=Decimal("0"))
    institution = models.CharField(max_length=120, blank=True)
    account_number = models.CharField(max_length=64, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="account_unique_name_per_tenant")]
        indexes = [models.Index(fields=["tenant", "name", "id"], name="account_tenant_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class Category(models.Model):
    """A tenant's category, two levels deep: a top-level category or a subcategory of one.

    A subcategory has its parent's kind. Names are unique (case-insensitively) among the
    categories of the same parent of a tenant. Foreign keys to categories are DO_NOTHING in
    Django: the ledger services move transactions and refuse parents with subcategories
    before deleting, with tenant-scoped statements, and the database's foreign keys refuse
    anything else (no unscoped collector queries over every tenant's transactions).
    """

    class Kind(models.TextChoices):
        INCOME = "income", "Income"
        EXPENSE = "expense", "Expense"
        # Money moved between the tenant's own accounts: neither income nor expense.
        TRANSFER = "transfer", "Transfer"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="categories", db_index=False)
    parent = models.ForeignKey(
        "self", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="children", db_index=False
    )
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    color = models.CharField(max_length=7, blank=True)  # "#rrggbb" or empty
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                models.F("tenant"), models.F("parent"), Lower("name"), name="category_unique_name_per_parent",
                condition=models.Q(parent__isnull=False),
            ),
            models.UniqueConstraint(
                models.F("tenant"), Lower("name"), name="category_unique_top_level_name",
                condition=models.Q(parent__isnull=True),
            ),
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="category_not_own_parent"),
        ]
        indexes = [models.Index(fields=["tenant", "parent", "name"], name="category_tenant_parent")]

    def __str__(self) -> str:
        return self.name

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class Tag(models.Model):
    """A free label of a tenant; names are unique per tenant, case-insensitively."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="tags", db_index=False)
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(models.F("tenant"), Lower("name"), name="tag_unique_name_per_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "name", "id"], name="tag_tenant_name")]

    def __str__(self) -> str:
        return self.name


class CategorySource(models.TextChoices):
    """Who set a transaction's category; a rule never overwrites a manual one."""

    NONE = "", "None"
    MANUAL = "manual", "Manual"
    RULE = "rule", "Rule"
    IMPORT = "import", "Import"


class Transaction(models.Model):
    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="transactions")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="transactions")
    booked_on = models.DateField()
    value_on = models.DateField(null=True, blank=True)
    amount = money_field()
    description = models.CharField(max_length=500, blank=True)
    counterparty = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    # Nullable / database defaults: the import commit inserts rows with a raw INSERT ... SELECT.
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="transactions", db_index=False
    )
    category_source = models.CharField(
        max_length=8, choices=CategorySource.choices, blank=True, default="", db_default=""
    )
    tags = models.ManyToManyField(Tag, through="TransactionTag", related_name="transactions", blank=True)
    # The other half of a transfer between two of the tenant's accounts; both rows point at each other
    # (ledger.transfers). DO_NOTHING: deleting one unlinks its partner first with a tenant-scoped UPDATE.
    transfer_pair = models.ForeignKey(
        "self", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+", db_index=False
    )
    # Identity of an imported row (account, date, amount, description, bank reference);
    # unique per account so a re-import or retried commit adds nothing.
    fingerprint = models.CharField(max_length=64, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # The import that added this row (undo deletes exactly these); null for rows entered by hand.
    import_batch = models.ForeignKey(
        "imports.ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account", "fingerprint"], name="transaction_unique_fingerprint",
                condition=models.Q(fingerprint__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["tenant", "transfer_pair"], name="transaction_unique_transfer_pair",
                condition=models.Q(transfer_pair__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "booked_on", "id"], name="txn_tenant_date"),
            models.Index(fields=["tenant", "account", "booked_on", "id"], name="txn_tenant_account_date"),
            models.Index(fields=["tenant", "amount", "id"], name="txn_tenant_amount"),
            models.Index(fields=["tenant", "account", "amount", "id"], name="txn_tenant_account_amount"),
            models.Index(fields=["tenant", "import_batch"], name="txn_tenant_import_batch"),
            models.Index(fields=["tenant", "category", "booked_on"], name="txn_tenant_category_date"),
        ]
        # The text filter (icontains on description, counterparty, reference) has trigram GIN indexes (and
        # the planner extended statistics on tenant/account and tenant/category) on PostgreSQL only,
        # outside the model state: migration 0009.

    def __str__(self) -> str:
        return f"{self.booked_on} {self.amount} {self.description[:40]}"

    @property
    def currency(self) -> str:
        """The account's currency; callers select_related("account")."""
        return self.account.currency


class TransactionTag(models.Model):
    """A tag on a transaction; carries the tenant like every tenant-owned row."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="tag_links", db_index=False)
    # DO_NOTHING: tag_delete removes the links with a tenant-scoped statement first.
    tag = models.ForeignKey(Tag, on_delete=models.DO_NOTHING, related_name="links", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["transaction", "tag"], name="transactiontag_unique")]
        indexes = [models.Index(fields=["tenant", "tag", "transaction"], name="txntag_tenant_tag")]


# --- transfers, budgets and exchange rates (ledger.transfers, ledger.budgets, ledger.exchange_rates) ---


class TransferDismissal(models.Model):
    """Two transactions a person unlinked: detection never links this pair again (linking by hand still can).

    Plain ids, no foreign keys: deleting either transaction (import undo deletes in bulk) needs no clean-up,
    and uuid7 ids are never reused.
    """

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    outflow_id = models.UUIDField()
    inflow_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "outflow_id", "inflow_id"], name="transferdismissal_unique_pair"),
        ]


class Budget(models.Model):
    """A spending limit for an expense category (a top-level one covers its subcategories) per period."""

    class Period(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="budgets", db_index=False)
    # Deleting a category deletes its budget (a handful of rows; the table is small).
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="budgets", db_index=False)
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    amount = money_field()
    currency = models.CharField(max_length=3)
    # Unspent (or overspent) money of past periods since `starts_on` carries into the current one.
    rollover = models.BooleanField(default=False)
    starts_on = models.DateField()  # the first day of the budget's first period
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "category"], name="budget_unique_category"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="budget_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.amount} {self.currency}"


RATE_MAX_DIGITS, RATE_DECIMAL_PLACES = 20, 10


class ExchangeRate(models.Model):
    """1 `from_currency` = `rate` `to_currency` on `date`; reports use the latest rate on or before a day."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="exchange_rates", db_index=False)
    date = models.DateField()
    from_currency = models.CharField(max_length=3)
    to_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "from_currency", "to_currency", "date"], name="exchangerate_unique_pair_date"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_rate_positive"),
            models.CheckConstraint(
                condition=~models.Q(from_currency=models.F("to_currency")), name="exchangerate_two_currencies"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "date", "id"], name="exchangerate_tenant_date")]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.from_currency} = {self.rate} {self.to_currency}"


# --- categorization rules (ledger.rules, ledger.rule_services, ledger.rule_selectors) ---


class Rule(models.Model):
    """A tenant's categorization rule: every condition set must hold (AND); the actions then apply.

    Rules run in `position` order (ties by id); for each field the first matching rule that sets it
    wins, tags of every matching rule are added (see ledger.rules). Text conditions are
    case-insensitive. Deleting the account a rule is limited to deletes the rule (the account had
    no transactions, so the rule matched nothing); deleting its category leaves the rule without
    a category action; deleting a tag takes it off the rule.
    """

    class TextOperator(models.TextChoices):
        CONTAINS = "contains", "Contains"
        EQUALS = "equals", "Equals"
        STARTS_WITH = "starts_with", "Starts with"
        REGEX = "regex", "Regular expression"

    class Sign(models.TextChoices):
        ANY = "", "Any"
        NEGATIVE = "negative", "Negative (money out)"
        POSITIVE = "positive", "Positive (money in)"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="rules", db_index=False)
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    # Conditions; an empty operator means no condition on that field.
    description_operator = models.CharField(max_length=12, choices=TextOperator.choices, blank=True)
    description_value = models.CharField(max_length=200, blank=True)
    counterparty_operator = models.CharField(max_length=12, choices=TextOperator.choices, blank=True)
    counterparty_value = models.CharField(max_length=200, blank=True)
    reference_operator = models.CharField(max_length=12, choices=TextOperator.choices, blank=True)
    reference_value = models.CharField(max_length=200, blank=True)
    amount_min = money_field(null=True, blank=True)
    amount_max = money_field(null=True, blank=True)
    amount_sign = models.CharField(max_length=8, choices=Sign.choices, blank=True)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="rules", db_index=False
    )
    booked_from = models.DateField(null=True, blank=True)
    booked_to = models.DateField(null=True, blank=True)
    # Actions.
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="rules", db_index=False
    )
    tags = models.ManyToManyField(Tag, through="RuleTag", related_name="rules", blank=True)
    set_counterparty = models.CharField(max_length=200, blank=True)
    set_note = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "position", "id"], name="rule_tenant_position"),
            models.Index(fields=["tenant", "category"], name="rule_tenant_category"),
            models.Index(fields=["tenant", "account"], name="rule_tenant_account"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleTag(models.Model):
    """A tag a rule adds to the transactions it matches."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="tag_links", db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="rule_links", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "tag"], name="ruletag_unique")]
        indexes = [models.Index(fields=["tenant", "tag", "rule"], name="ruletag_tenant_tag")]


# --- expected recurring fees (ledger.fees) ---


class ExpectedFee(models.Model):
    """A fee an account is expected to charge every month, quarter or year (a positive amount); the fee check
    flags each period where no matching fee transaction is found ("missing") or its amount differs."""

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="expected_fees", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="expected_fees", db_index=False)
    name = models.CharField(max_length=120)
    # Matching fee transactions are in this category (or, without one, in the "Fees & charges" tree).
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="expected_fees", db_index=False
    )
    amount = money_field()
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    # A fee booked this many days before or after its period still counts for it.
    day_tolerance = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="expectedfee_amount_positive"),
        ]
        indexes = [models.Index(fields=["tenant", "account", "name"], name="expectedfee_tenant_account")]

    def __str__(self) -> str:
        return f"{self.name} {self.amount} {self.frequency}"
