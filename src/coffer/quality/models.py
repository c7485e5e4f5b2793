"""Data quality: per-file analyses (cached by content), tenant settings, LLM reviews and their cache.

`SheetAnalysis`, `Finding` and `ReviewCache` are keyed by the file's content (sha256), not by a
tenant: they are derived from the bytes alone, so every import of the same file (in any
tenant) shares one computation, and only a caller who holds an import with that content
(tenant-scoped, see selectors) ever reaches them. Everything a tenant decides or pays for
(`QualitySettings`, `Review`) carries its tenant.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from coffer.ids import new_id


class SheetAnalysis(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Analysing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    sha256 = models.CharField(max_length=64)
    sheet = models.CharField(max_length=255, blank=True)  # "" for CSV (one unnamed sheet)
    version = models.PositiveIntegerField()  # analysis.VERSION: a new version analyses again
    file_path = models.CharField(max_length=500)  # relative to MEDIA_ROOT: the upload it is read from
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    header_row = models.PositiveIntegerField(null=True, blank=True)
    profile = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # {code: {column letter or "": findings}}, all counted
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sha256", "sheet", "version"], name="sheetanalysis_unique_content"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.sheet or '(csv)'} ({self.status})"


class Finding(models.Model):
    """One deterministic finding, the shape of imports.issues.Issue (row, column letter, code, severity, message, value)."""

    id = models.BigAutoField(primary_key=True)
    analysis = models.ForeignKey(SheetAnalysis, on_delete=models.CASCADE, related_name="findings", db_index=False)
    family = models.CharField(max_length=32)
    row = models.PositiveIntegerField(null=True, blank=True)
    column = models.CharField(max_length=4, blank=True)
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=8)
    message = models.CharField(max_length=500)
    value = models.TextField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["analysis", "row", "id"], name="finding_analysis_row")]

    def __str__(self) -> str:
        return f"{self.code} at {self.column}{self.row}"


class QualitySettings(models.Model):
    """A tenant's choices: rule families switched off, and the LLM review (off until an admin accepts the notice)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    disabled_rules = models.JSONField(default=list, blank=True)  # family keys, see quality.rules.FAMILIES
    review_enabled = models.BooleanField(default=False)
    review_notice_version = models.CharField(max_length=16, blank=True)  # the notice the admin accepted
    review_enabled_at = models.DateTimeField(null=True, blank=True)
    review_enabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # None: the LLM_MONTHLY_SPEND_CAP setting.
    monthly_cap = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"quality settings of {self.tenant_id}"


class Review(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    # SET_NULL: the month's spend must not shrink when an import goes away.
    batch = models.ForeignKey("imports.ImportBatch", on_delete=models.SET_NULL, null=True, related_name="+",
                              db_index=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    sha256 = models.CharField(max_length=64)
    sheet = models.CharField(max_length=255, blank=True)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=200)
    prompt_version = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    stage = models.CharField(max_length=80, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # model calls made (retries included)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    # Worst-case cost held against the monthly cap while the review runs (0 once finished).
    reserved = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    cached = models.BooleanField(default=False)  # answered from ReviewCache: nothing paid
    result = models.JSONField(null=True, blank=True)  # {"summary", "findings": [...]} (validated)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="review_tenant_created"),
            models.Index(fields=["tenant", "batch", "created_at"], name="review_tenant_batch"),
        ]

    def __str__(self) -> str:
        return f"review {self.pk} ({self.status})"


class ReviewCache(models.Model):
    """A validated model answer for (file content, sheet, prompt version, provider, model): never paid twice."""

    id = models.BigAutoField(primary_key=True)
    sha256 = models.CharField(max_length=64)
    sheet = models.CharField(max_length=255, blank=True)
    prompt_version = models.CharField(max_length=16)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=200)
    result = models.JSONField()
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sha256", "sheet", "prompt_version", "provider", "model"],
                                    name="reviewcache_unique_question"),
        ]

    def __str__(self) -> str:
        return f"cached review {self.sha256[:12]} {self.sheet} {self.model}"
