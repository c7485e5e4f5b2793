from __future__ import annotations

from coffer.audit.models import AuditEntry


def audit_entries(*, tenant, object_type: str | None = None, object_id: str | None = None, action: str | None = None):
    """Newest first; callers paginate (keyset on created_at, id)."""
    qs = AuditEntry.objects.filter(tenant=tenant).select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-created_at", "-id")
