from django.contrib import admin

from fibrosurvey.web.participants.models import Invitation, Participant


class _ReadOnly(admin.ModelAdmin):
    """Research data changes go through the audited services; the admin only reads."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Participant)
class ParticipantAdmin(_ReadOnly):
    # Contact details are deliberately absent: they are read only through the audited view.
    list_display = ("study_code", "study", "site", "language", "consented_at", "withdrawn_at")
    list_filter = ("study", "site")
    search_fields = ("study_code",)


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly):
    list_display = ("participant", "event", "sent_at", "completed_at", "revoked_at", "expires_at")
    exclude = ("token_hash",)
