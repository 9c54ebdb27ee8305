"""Staff actions on a participant's survey (the participant page links here)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site, study_view
from fibrosurvey.web.survey.services import do_reopen_survey


@study_view("invite")
@require_POST
def reopen(
    request: AuthenticatedHttpRequest,
    membership: Membership,
    study_id: int,
    participant_id: int,
    event_code: str,
) -> HttpResponse:
    invitations = filter_to_site(
        Invitation.objects.filter(participant__study=membership.study),
        membership,
        site_field="participant__site",
    )
    invitation = get_object_or_404(
        invitations.select_related("participant"),
        participant_id=participant_id,
        event__code=event_code,
        completed_at__isnull=False,
    )
    do_reopen_survey(invitation, actor=request.user, request=request)
    messages.success(
        request, _("Survey reopened: the participant's link can change the answers again.")
    )
    return redirect("participants:detail", study_id=study_id, participant_id=participant_id)
