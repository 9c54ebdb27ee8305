from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from fibrosurvey.web.survey.models import Response, SafetyAlert


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin[Response]):
    list_display = ("participant", "event", "instrument_id", "instrument_version", "status")
    list_filter = ("instrument_id", "status")
    # Research data changes go through the survey so they are audited; admin only reads.
    readonly_fields = [f.name for f in Response._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Response | None = None) -> bool:
        return False


@admin.register(SafetyAlert)
class SafetyAlertAdmin(admin.ModelAdmin[SafetyAlert]):
    list_display = ("participant", "event", "value", "created_at", "acknowledged_at")
    readonly_fields = [f.name for f in SafetyAlert._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SafetyAlert | None = None) -> bool:
        return False
