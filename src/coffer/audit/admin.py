from django.contrib import admin

from coffer.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "tenant", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    list_select_related = ("tenant", "actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
