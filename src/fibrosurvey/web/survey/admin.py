from django.contrib import admin

from fibrosurvey.web.survey.models import Response, SafetyAlert


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("participant", "event", "instrument_id", "instrument_version", "status")
    list_filter = ("instrument_id", "status")
    # Research data changes go through the survey so they are audited; admin only reads.
    readonly_fields = [f.name for f in Response._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SafetyAlert)
class SafetyAlertAdmin(admin.ModelAdmin):
    list_display = ("participant", "event", "value", "created_at", "acknowledged_at")
    readonly_fields = [f.name for f in SafetyAlert._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
