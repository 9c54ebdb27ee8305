from django.contrib import admin

from fibrosurvey.web.participants.models import Invitation, Participant


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    # Contact details are deliberately absent: they are read only through the audited view.
    list_display = ("study_code", "study", "site", "language", "consented_at", "withdrawn_at")
    list_filter = ("study", "site")
    search_fields = ("study_code",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("participant", "event", "sent_at", "completed_at", "revoked_at", "expires_at")
    exclude = ("token_hash",)
