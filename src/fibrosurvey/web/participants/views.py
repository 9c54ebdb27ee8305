"""Participant management: list, enrol (one or CSV), contact details, invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fibrosurvey.web.participants import services
from fibrosurvey.web.participants.forms import EnrolCsvForm, EnrolForm
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site, require_membership


def _visible_participant(membership: Membership, participant_id: int) -> Participant:
    participants = filter_to_site(Participant.objects.filter(study=membership.study), membership)
    return get_object_or_404(participants.select_related("site"), pk=participant_id)


@login_required
def participant_list(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "view_participants")
    participants = (
        filter_to_site(Participant.objects.filter(study=membership.study), membership)
        .select_related("site")
        .prefetch_related("invitations__event")
    )
    page = Paginator(participants, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "participants/list.html",
        study_context(
            membership,
            participants=page,
            page=page,
            can_enrol=membership.can("enrol"),
            can_invite=membership.can("invite"),
            events=membership.study.events.all(),
        ),
    )


@login_required
@require_POST
def invite_all(request: HttpRequest, study_id: int, event_code: str) -> HttpResponse:
    membership = require_membership(request.user, study_id, "invite")
    event = get_object_or_404(membership.study.events, code=event_code)
    participants = filter_to_site(Participant.objects.filter(study=membership.study), membership)
    count = services.do_invite_all(participants, event, actor=request.user)
    messages.success(
        request, _("Invited %(n)d participants (%(event)s).") % {"n": count, "event": event.code}
    )
    return redirect("participants:list", study_id=membership.study.pk)


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "enrol")
    study = membership.study
    # A site-limited member enrols only at their own site.
    sites = study.sites.filter(pk=membership.site_id) if membership.site_id else study.sites.all()
    form = EnrolForm(study, sites, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = services.do_enrol_participant(
                study,
                site=data["site"],
                actor=request.user,
                language=data["language"],
                study_code=data["study_code"],
                email=data["email"],
                phone=data["phone"],
                name=data["name"],
            )
        except services.StudyCodeTaken as taken:
            form.add_error("study_code", taken.problems[0].message)
            context = study_context(membership, form=form)
            return render(request, "participants/enrol.html", context, status=409)
        messages.success(request, _("Enrolled %(code)s.") % {"code": participant.study_code})
        return redirect("participants:detail", study_id=study.pk, participant_id=participant.pk)
    return render(request, "participants/enrol.html", study_context(membership, form=form))


@login_required
@require_http_methods(["GET", "POST"])
def enrol_csv(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "enrol")
    study = membership.study
    form = EnrolCsvForm(request.POST or None, request.FILES or None)
    problems: list[services.RowProblem] = []
    if request.method == "POST" and form.is_valid():
        # A site-limited member may enrol only at their own site.
        allowed = {membership.site.code} if membership.site_id else None
        try:
            created = services.do_enrol_csv(
                study, form.cleaned_data["file"], actor=request.user, allowed_sites=allowed
            )
        except services.EnrolmentError as error:
            problems = error.problems
        else:
            messages.success(request, _("Enrolled %(n)d participants.") % {"n": len(created)})
            return redirect("participants:list", study_id=study.pk)
    return render(
        request,
        "participants/enrol_csv.html",
        study_context(
            membership,
            form=form,
            problems=problems,
            columns=services.CSV_COLUMNS,
            site_codes=[s.code for s in study.sites.all()],
        ),
        status=422 if problems or form.errors else 200,
    )


@login_required
def detail(request: HttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "view_participants")
    participant = _visible_participant(membership, participant_id)
    invitations = {inv.event_id: inv for inv in participant.invitations.all()}
    events = [(event, invitations.get(event.pk)) for event in membership.study.events.all()]
    return render(
        request,
        "participants/detail.html",
        study_context(
            membership,
            participant=participant,
            events=events,
            responses=participant.responses.select_related("event").order_by("event__order", "id"),
            can_invite=membership.can("invite"),
            can_view_contact=membership.can("view_contact"),
        ),
    )


@never_cache
@login_required
def contact(request: HttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "view_contact")
    participant = _visible_participant(membership, participant_id)
    details = services.do_view_contact(participant, actor=request.user, request=request)
    return render(
        request,
        "participants/contact.html",
        study_context(
            membership,
            participant=participant,
            contact=details,
        ),
    )


@login_required
@require_POST
def invite(
    request: HttpRequest, study_id: int, participant_id: int, event_code: str
) -> HttpResponse:
    membership = require_membership(request.user, study_id, "invite")
    participant = _visible_participant(membership, participant_id)
    event = get_object_or_404(membership.study.events, code=event_code)
    issued = services.do_issue_invitation(participant, event, actor=request.user)
    # The link is shown once, here; only its hash is stored.
    return render(
        request,
        "participants/invited.html",
        study_context(
            membership,
            participant=participant,
            event=event,
            url=request.build_absolute_uri(services.survey_url(issued.token, base="")),
            emailed=issued.invitation.sent_at is not None,
        ),
    )


@login_required
@require_POST
def revoke(
    request: HttpRequest, study_id: int, participant_id: int, event_code: str
) -> HttpResponse:
    membership = require_membership(request.user, study_id, "invite")
    participant = _visible_participant(membership, participant_id)
    invitation = get_object_or_404(
        participant.invitations, event__code=event_code, revoked_at__isnull=True
    )
    services.do_revoke_invitation(invitation, actor=request.user)
    messages.success(request, _("Invitation revoked; the link no longer works."))
    return redirect("participants:detail", study_id=study_id, participant_id=participant.pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "enrol")
    participant = _visible_participant(membership, participant_id)
    services.do_withdraw_participant(participant, actor=request.user, request=request)
    messages.success(request, _("Participant withdrawn; their links no longer work."))
    return redirect("participants:detail", study_id=study_id, participant_id=participant.pk)
