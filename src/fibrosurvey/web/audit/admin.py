from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from fibrosurvey.web.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin[AuditRecord]):
    """Read-only: the trail is never edited, not even by superusers."""

    list_display = ("at", "actor", "actor_label", "action", "study", "object_type", "object_id")
    list_filter = ("action", "study")
    search_fields = ("actor__username", "actor_label", "object_type", "object_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditRecord | None = None) -> bool:
        return False
