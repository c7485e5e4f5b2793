from django.contrib import admin

from coffer.ledger.models import Account, Category, Tag, Transaction


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "tenant", "type", "currency", "balance", "archived_at")
    list_filter = ("type", "currency")
    search_fields = ("name", "tenant__slug")
    # Balances are maintained by the ledger services; editing them here would break the invariant.
    readonly_fields = ("balance",)
    raw_id_fields = ("tenant",)


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ("booked_on", "amount", "description", "account", "category", "tenant")
    search_fields = ("description", "counterparty", "reference")
    raw_id_fields = ("tenant", "account", "created_by")
    list_select_related = ("account", "category", "tenant")

    def has_add_permission(self, request):
        return False  # through the services only, which keep balances and the audit trail

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Changed through the ledger services only (limits, two-level rule, tenant-scoped deletes, audit)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(_ReadOnlyAdmin):
    list_display = ("name", "parent", "kind", "tenant", "archived_at")
    list_filter = ("kind",)
    search_fields = ("name", "tenant__slug")
    list_select_related = ("parent", "tenant")


@admin.register(Tag)
class TagAdmin(_ReadOnlyAdmin):
    list_display = ("name", "tenant", "created_at")
    search_fields = ("name", "tenant__slug")
    list_select_related = ("tenant",)
