from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
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
        ]
        indexes = [
            models.Index(fields=["tenant", "booked_on", "id"], name="txn_tenant_date"),
            models.Index(fields=["tenant", "account", "booked_on", "id"], name="txn_tenant_account_date"),
            models.Index(fields=["tenant", "amount", "id"], name="txn_tenant_amount"),
            models.Index(fields=["tenant", "import_batch"], name="txn_tenant_import_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.amount} {self.description[:40]}"

    @property
    def currency(self) -> str:
        """The account's currency; callers select_related("account")."""
        return self.account.currency
