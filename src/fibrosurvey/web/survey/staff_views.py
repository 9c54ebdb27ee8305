"""Staff actions on a participant's survey (the participant page links here)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fibrosurvey.validation import Problem
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site, study_view
from fibrosurvey.web.survey.forms import page_fields
from fibrosurvey.web.survey.rules import AnswersRefused, write_refusal
from fibrosurvey.web.survey.services import (
    do_reopen_survey,
    do_save_page,
    instrument_answers,
    parse_page_answers,
    survey_pages,
)


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


@study_view("enter_data")
@require_http_methods(["GET", "POST"])
def enter(
    request: AuthenticatedHttpRequest,
    membership: Membership,
    study_id: int,
    participant_id: int,
    event_code: str,
    number: int,
) -> HttpResponse:
    """Staff enter or correct one page of a participant's answers (e.g. from a paper form).

    The same path as the participant's own page: the core validator, the write rule and
    ``do_save_page``; the reason goes into the audit record.
    """
    invitations = filter_to_site(
        Invitation.objects.filter(participant__study=membership.study),
        membership,
        site_field="participant__site",
    )
    invitation = get_object_or_404(
        invitations.select_related("participant__study", "event"),
        participant_id=participant_id,
        event__code=event_code,
    )
    pages = survey_pages(invitation)
    if not 1 <= number <= len(pages):
        raise Http404("No such page")
    page = pages[number - 1]
    language = invitation.participant.language
    values = {
        column: "" if value is None else str(value)
        for column, value in instrument_answers(invitation, page.instrument.id).items()
    }
    problems: dict[str, Problem] = {}
    error = ""
    refusal = write_refusal(invitation, staff_entry=True)
    reason = ""
    if request.method == "POST":
        raw = parse_page_answers(page, request.POST)
        reason = (request.POST.get("reason") or "").strip()
        values |= {column: value or "" for column, value in raw.items()}
        if not reason:
            error = _("Give the reason for this entry (for example: paper form of 3 May).")
        else:
            try:
                result = do_save_page(
                    invitation,
                    page,
                    raw,
                    nonce=request.POST.get("nonce", ""),
                    moving_to=page.index + 1,
                    pages=pages,
                    entered_by=request.user,
                    reason=reason,
                )
            except AnswersRefused as refused:
                error = refused.refusal.message
            else:
                problems = result.problems
                if result.saved and not problems:
                    messages.success(request, _("Answers saved."))
                    if number < len(pages):
                        return redirect(
                            "survey_staff:enter",
                            study_id=study_id,
                            participant_id=participant_id,
                            event_code=event_code,
                            number=number + 1,
                        )
                    return redirect(
                        "participants:detail", study_id=study_id, participant_id=participant_id
                    )
    with translation.override(language):
        fields = page_fields(page, language, values, problems)
    return render(
        request,
        "survey/staff_enter.html",
        study_context(
            membership,
            invitation=invitation,
            page=page,
            number=number,
            pages=len(pages),
            fields=fields,
            error=error or (refusal.message if refusal else ""),
            reason=reason,
            nonce=secrets.token_urlsafe(16),
        ),
        status=422 if (error or problems) else 200,
    )
