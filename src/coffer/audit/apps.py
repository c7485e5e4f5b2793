from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "coffer.audit"
    label = "audit"
    verbose_name = "Audit trail"
