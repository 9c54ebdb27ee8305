from django.contrib import admin

from fibrosurvey.web.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only: the trail is never edited, not even by superusers."""

    list_display = ("at", "actor", "actor_label", "action", "study", "object_type", "object_id")
    list_filter = ("action", "study")
    search_fields = ("actor__username", "actor_label", "object_type", "object_id")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
