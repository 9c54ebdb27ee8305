from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from fibrosurvey.web.participants.models import Invitation, Participant

_M = TypeVar("_M", bound=Model)


class _ReadOnly(admin.ModelAdmin[_M]):
    """Research data changes go through the audited services; the admin only reads."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


@admin.register(Participant)
class ParticipantAdmin(_ReadOnly[Participant]):
    # Contact details are deliberately absent: they are read only through the audited view.
    list_display = ("study_code", "study", "site", "language", "consented_at", "withdrawn_at")
    list_filter = ("study", "site")
    search_fields = ("study_code",)


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly[Invitation]):
    list_display = ("participant", "event", "sent_at", "completed_at", "revoked_at", "expires_at")
    exclude = ("token_hash",)
