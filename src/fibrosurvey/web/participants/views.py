"""Participant management: list by status, enrol (one or CSV), contact details, invitations,
reminders (one or in bulk, after a confirmation)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fibrosurvey.problems import Problem
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.participants.enrolment import (
    CSV_COLUMNS,
    EnrolmentError,
    StudyCodeTaken,
    do_enrol_participant,
    do_import_enrolment_csv,
    do_view_contact,
)
from fibrosurvey.web.participants.forms import EnrolCsvForm, EnrolForm, WithdrawForm
from fibrosurvey.web.participants.invitations import (
    WithdrawnParticipantError,
    do_issue_invitation,
    do_revoke_invitation,
    survey_url,
)
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.participants.reminders import (
    ReminderRefused,
    do_bulk_invite,
    do_bulk_remind,
    do_send_reminder,
    plan_invitations,
    plan_reminders,
)
from fibrosurvey.web.participants.status import (
    EventStatus,
    only_status,
    status_counts,
    with_event_status,
)
from fibrosurvey.web.participants.withdrawal import do_withdraw_participant
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Event, Membership
from fibrosurvey.web.studies.permissions import (
    allowed_site_codes,
    can,
    filter_to_site,
    study_view,
    visible_sites,
)


def _visible_participant(membership: Membership, participant_id: int) -> Participant:
    participants = filter_to_site(Participant.objects.filter(study=membership.study), membership)
    return get_object_or_404(participants.select_related("site"), pk=participant_id)


_SORTS = {
    "status": ("status_rank", "study_code"),
    "code": ("study_code",),
    "site": ("site__code", "study_code"),
    "enrolled": ("-enrolled_at", "study_code"),
}


def _selected_event(membership: Membership, code: str | None) -> Event | None:
    events = membership.study.events.all()
    return (events.filter(code=code).first() if code else None) or events.first()


def _scoped(membership: Membership, event: Event, status: str) -> tuple[QuerySet[Participant], str]:
    """The member's participants, limited to one status for ``event`` when ``status`` is a
    known one (else every status: returns "")."""
    participants = filter_to_site(Participant.objects.filter(study=membership.study), membership)
    if status not in EventStatus.values:
        return participants, ""
    chosen = only_status(with_event_status(participants, event), status)
    return participants.filter(pk__in=chosen.values("pk")), status


@study_view("view_participants")
def participant_list(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    """Participants with their status for one event: filter, sort, counts, pages. A fixed
    number of queries whatever the page size (counts and statuses are SQL aggregates)."""
    event = _selected_event(membership, request.GET.get("event"))
    status = request.GET.get("status", "")
    sort = request.GET.get("sort", "status")
    if sort not in _SORTS:
        sort = "status"
    everyone = filter_to_site(Participant.objects.filter(study=membership.study), membership)
    counts: dict[str, int] = {}
    participants = everyone.select_related("site")
    if event is not None:
        participants = with_event_status(participants, event)
        counts = status_counts(with_event_status(everyone, event))
        if status in EventStatus.values:
            participants = only_status(participants, status)
        else:
            status = ""
        participants = participants.order_by(*_SORTS[sort])
    page = Paginator(participants.prefetch_related("invitations__event"), 50).get_page(
        request.GET.get("page")
    )
    query = urlencode({"event": event.code if event else "", "status": status, "sort": sort})
    return render(
        request,
        "participants/list.html",
        study_context(
            membership,
            participants=page,
            page=page,
            event=event,
            status=status,
            sort=sort,
            sorts=list(_SORTS),
            query=query,
            statuses=[(s.value, s.label, counts.get(s.value, 0)) for s in EventStatus],
            total=sum(counts.values()),
            can_enrol=can(membership, "enrol"),
            can_invite=can(membership, "invite"),
            events=membership.study.events.all(),
        ),
    )


def _bulk_page(
    request: AuthenticatedHttpRequest,
    membership: Membership,
    event_code: str,
    kind: str,
) -> HttpResponse:
    """GET: what the bulk action would do (who is e-mailed, who is skipped and why) and a
    button to confirm; POST: do it and say the same about what was done."""
    event = get_object_or_404(membership.study.events, code=event_code)
    participants, status = _scoped(
        membership, event, request.POST.get("status") or request.GET.get("status", "")
    )
    context = study_context(membership, event=event, status=status, kind=kind)
    if request.method == "POST":
        act = do_bulk_invite if kind == "invite" else do_bulk_remind
        outcome = act(participants, event, actor=request.user)
        return render(request, "participants/bulk_done.html", context | {"outcome": outcome})
    plan = (plan_invitations if kind == "invite" else plan_reminders)(participants, event)
    return render(request, "participants/bulk_confirm.html", context | {"plan": plan})


@study_view("invite")
@require_http_methods(["GET", "POST"])
def invite_all(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, event_code: str
) -> HttpResponse:
    return _bulk_page(request, membership, event_code, "invite")


@study_view("invite")
@require_http_methods(["GET", "POST"])
def remind_all(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, event_code: str
) -> HttpResponse:
    return _bulk_page(request, membership, event_code, "remind")


@study_view("invite")
@require_POST
def remind(
    request: AuthenticatedHttpRequest,
    membership: Membership,
    study_id: int,
    participant_id: int,
    event_code: str,
) -> HttpResponse:
    """E-mail the participant's existing link again (it keeps working)."""
    participant = _visible_participant(membership, participant_id)
    invitation = get_object_or_404(participant.invitations, event__code=event_code)
    try:
        do_send_reminder(invitation, actor=request.user)
    except ReminderRefused as refused:
        error = _("No reminder sent: %(reason)s.") % {"reason": refused.reason.label}
        return _detail_page(request, membership, participant, error=error, status=409)
    messages.success(request, _("Reminder sent: the same link, which still works."))
    return redirect("participants:detail", study_id=study_id, participant_id=participant.pk)


@study_view("enrol")
@require_http_methods(["GET", "POST"])
def enrol(request: AuthenticatedHttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    study = membership.study
    sites = visible_sites(membership)
    form = EnrolForm(study, sites, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = do_enrol_participant(
                study,
                site=data["site"],
                actor=request.user,
                language=data["language"],
                study_code=data["study_code"],
                email=data["email"],
                phone=data["phone"],
                name=data["name"],
            )
        except StudyCodeTaken as taken:
            form.add_error("study_code", taken.problems[0].message)
            context = study_context(membership, form=form)
            return render(request, "participants/enrol.html", context, status=409)
        messages.success(request, _("Enrolled %(code)s.") % {"code": participant.study_code})
        return redirect("participants:detail", study_id=study.pk, participant_id=participant.pk)
    return render(
        request,
        "participants/enrol.html",
        study_context(membership, form=form),
        status=400 if form.errors else 200,
    )


@study_view("enrol")
@require_http_methods(["GET", "POST"])
def enrol_csv(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    study = membership.study
    form = EnrolCsvForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
    if request.method == "POST" and form.is_valid():
        allowed = allowed_site_codes(membership)
        try:
            outcome = do_import_enrolment_csv(
                study, form.cleaned_data["file"], actor=request.user, allowed_sites=allowed
            )
        except EnrolmentError as error:
            problems = error.problems
        else:
            if outcome.job is not None:
                return redirect("jobs:detail", study_id=study.pk, job_id=outcome.job.pk)
            count = len(outcome.participants)
            messages.success(request, _("Enrolled %(n)d participants.") % {"n": count})
            return redirect("participants:list", study_id=study.pk)
    return render(
        request,
        "participants/enrol_csv.html",
        study_context(
            membership,
            form=form,
            problems=problems,
            columns=CSV_COLUMNS,
            site_codes=[s.code for s in study.sites.all()],
        ),
        status=422 if problems or form.errors else 200,
    )


def _detail_page(
    request: HttpRequest,
    membership: Membership,
    participant: Participant,
    *,
    withdraw_form: WithdrawForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
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
            can_invite=can(membership, "invite"),
            can_enter_data=can(membership, "enter_data"),
            can_withdraw=can(membership, "enrol"),
            can_view_contact=can(membership, "view_contact"),
            withdraw_form=withdraw_form or WithdrawForm(),
            error=error,
        ),
        status=status,
    )


@study_view("view_participants")
def detail(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, participant_id: int
) -> HttpResponse:
    return _detail_page(request, membership, _visible_participant(membership, participant_id))


@never_cache
@study_view("view_contact")
def contact(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, participant_id: int
) -> HttpResponse:
    participant = _visible_participant(membership, participant_id)
    details = do_view_contact(participant, actor=request.user, request=request)
    return render(
        request,
        "participants/contact.html",
        study_context(
            membership,
            participant=participant,
            contact=details,
            # Answers to identifier items: decrypted under the same audited view.
            identifiers=participant.identifier_answers.all(),
        ),
    )


@study_view("invite")
@require_POST
def invite(
    request: AuthenticatedHttpRequest,
    membership: Membership,
    study_id: int,
    participant_id: int,
    event_code: str,
) -> HttpResponse:
    participant = _visible_participant(membership, participant_id)
    event = get_object_or_404(membership.study.events, code=event_code)
    try:
        issued = do_issue_invitation(participant, event, actor=request.user)
    except WithdrawnParticipantError as refused:
        return _detail_page(request, membership, participant, error=str(refused), status=409)
    # The link is shown once, here; only its hash is stored.
    return render(
        request,
        "participants/invited.html",
        study_context(
            membership,
            participant=participant,
            event=event,
            url=request.build_absolute_uri(survey_url(issued.token, base="")),
            emailed=issued.invitation.sent_at is not None,
        ),
    )


@study_view("invite")
@require_POST
def revoke(
    request: AuthenticatedHttpRequest,
    membership: Membership,
    study_id: int,
    participant_id: int,
    event_code: str,
) -> HttpResponse:
    participant = _visible_participant(membership, participant_id)
    invitation = get_object_or_404(
        participant.invitations, event__code=event_code, revoked_at__isnull=True
    )
    do_revoke_invitation(invitation, actor=request.user)
    messages.success(request, _("Invitation revoked; the link no longer works."))
    return redirect("participants:detail", study_id=study_id, participant_id=participant.pk)


@study_view("enrol")
@require_POST
def withdraw(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, participant_id: int
) -> HttpResponse:
    participant = _visible_participant(membership, participant_id)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, membership, participant, withdraw_form=form, status=400)
    do_withdraw_participant(
        participant,
        actor=request.user,
        kind=form.cleaned_data["kind"],
        reason=form.cleaned_data["reason"],
        request=request,
    )
    messages.success(request, _("Participant withdrawn; their links no longer work."))
    return redirect("participants:detail", study_id=study_id, participant_id=participant.pk)
