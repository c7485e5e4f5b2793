"""Import batches, their staged rows, and per-tenant mapping presets.

Staged rows are the review area: typed columns, the raw cells and the row's issues,
written in bulk while reading, paged by (batch, row number). Nothing reaches the ledger
before commit; commit copies the staged rows in one INSERT ... SELECT.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from coffer.ids import new_id
from coffer.ledger.models import money_field


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        READING = "reading", "Reading"
        VALIDATING = "validating", "Validating"
        REVIEW = "review", "Ready for review"
        COMMITTING = "committing", "Committing"
        COMMITTED = "committed", "Committed"
        FAILED = "failed", "Failed"
        UNDONE = "undone", "Undone"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey("ledger.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    file_name = models.CharField(max_length=255)
    # Relative to MEDIA_ROOT: imports/<tenant id>/<batch id>/<safe name>
    file_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(default=0)
    format = models.CharField(max_length=8, blank=True)
    # Requested sheet (empty: choose automatically); after reading, the sheet read.
    sheet = models.CharField(max_length=255, blank=True)
    sheets = models.JSONField(default=list, blank=True)  # [{"name", "rows", "columns"}]
    header_row = models.PositiveIntegerField(null=True, blank=True)
    mapping = models.JSONField(default=dict, blank=True)  # {field: column index (0-based)}
    mapping_confidence = models.FloatField(null=True, blank=True)
    # detected | preset | user: where the mapping came from. A user mapping is kept on re-runs.
    mapping_source = models.CharField(max_length=16, blank=True)
    formats = models.JSONField(default=dict, blank=True)  # column formats decided from the file (date order...)
    signature = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    rows_validated = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_with_errors = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    rows_committed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="import_tenant_created"),
            models.Index(fields=["tenant", "account", "created_at"], name="import_tenant_account"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class StagedRow(models.Model):
    # Internal key only: rows are addressed by (batch, row_number), never by this id.
    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows", db_index=False)
    row_number = models.PositiveIntegerField()  # as the spreadsheet shows it (CSV: line)
    # The ledger id this row gets when committed; chosen at staging so INSERT ... SELECT copies it.
    transaction_id = models.UUIDField(default=new_id)
    booked_on = models.DateField(null=True, blank=True)
    value_on = models.DateField(null=True, blank=True)
    amount = money_field(null=True, blank=True)
    balance = money_field(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True)
    counterparty = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    category = models.CharField(max_length=120, blank=True)
    raw = models.JSONField(default=list)  # the row's cells as read, as strings
    issues = models.JSONField(default=list)  # parser/rule issues; duplicates are the flags below
    issue_codes = models.CharField(max_length=500, blank=True)  # ",E_DATE_INVALID,W_FUTURE_DATE," for filters
    has_error = models.BooleanField(default=False)
    has_warning = models.BooleanField(default=False)
    # Identity: base = hash(account, date, amount, normalised description, reference);
    # fingerprint = base + "-" + occurrence among identical rows of this file, in statement order.
    fingerprint_base = models.CharField(max_length=48, null=True, blank=True)
    occurrence = models.PositiveIntegerField(default=1)
    fingerprint = models.CharField(max_length=64, null=True, blank=True)
    # Hash of every typed column incl. running balance: equal hashes = a line repeated in the file.
    content_hash = models.CharField(max_length=48, null=True, blank=True)
    is_duplicate = models.BooleanField(default=False)
    duplicate_of_row = models.PositiveIntegerField(null=True, blank=True)
    duplicate_of_transaction = models.UUIDField(null=True, blank=True)
    excluded = models.BooleanField(default=False)
    import_anyway = models.BooleanField(default=False)
    accepted_warnings = models.BooleanField(default=False)
    edited = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "batch", "row_number"], name="stagedrow_unique_row"),
        ]
        indexes = [
            models.Index(fields=["tenant", "batch", "fingerprint_base"], name="stagedrow_fingerprint"),
        ]

    def __str__(self) -> str:
        return f"row {self.row_number} of {self.batch_id}"


class MappingPreset(models.Model):
    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    signature = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict)
    header_row = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "signature"], name="mappingpreset_unique_signature"),
        ]

    def __str__(self) -> str:
        return f"preset {self.signature[:12]}"
