"""The study owner's settings pages: study settings, consent, events and batteries."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fibrosurvey.web.builder.setup import (
    SetupRefused,
    available_instruments,
    do_add_event,
    do_change_consent,
    do_change_event,
    do_change_settings,
)
from fibrosurvey.web.builder.setup_forms import (
    LANGUAGES,
    AddEventForm,
    ConsentForm,
    EventForm,
    StudySettingsForm,
    per_language,
)
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.http import posted_data as _posted
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import study_view


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def study_settings(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    study = membership.study
    initial = {
        "languages": study.languages,
        "country": study.country,
        "safety_phone": study.safety_phone,
        "safety_email": study.safety_email,
        "safety_hours": study.safety_hours,
        **{f"title_{c}": study.public_title.get(c, "") for c, _n in LANGUAGES},
        **{f"description_{c}": study.public_description.get(c, "") for c, _n in LANGUAGES},
    }
    form = StudySettingsForm(_posted(request), initial=initial)
    problem = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            do_change_settings(
                study,
                actor=request.user,
                public_title=per_language(data, "title"),
                public_description=per_language(data, "description"),
                languages=data["languages"],
                country=data["country"],
                safety_phone=data["safety_phone"],
                safety_email=data["safety_email"],
                safety_hours=data["safety_hours"].strip(),
            )
        except SetupRefused as error:
            problem = str(error)
        else:
            messages.success(request, _("Study settings saved."))
            return redirect("builder:settings", study_id=study_id)
    return render(
        request,
        "builder/settings.html",
        study_context(membership, form=form, problem=problem),
        status=409 if problem else (422 if form.errors else 200),
    )


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def consent(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    study = membership.study
    initial = {f"consent_{c}": study.consent_text.get(c, "") for c, _n in LANGUAGES}
    form = ConsentForm(study.languages, _posted(request), initial=initial)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            version = do_change_consent(
                study, text=per_language(form.cleaned_data, "consent"), actor=request.user
            )
        except SetupRefused as error:
            problem = str(error)
        else:
            if version is None:
                messages.info(request, _("The consent text did not change."))
            else:
                messages.success(
                    request,
                    _("Consent version %(version)s saved. Participants consent again.")
                    % {"version": version.version},
                )
            return redirect("builder:consent", study_id=study_id)
    return render(
        request,
        "builder/consent.html",
        study_context(
            membership,
            form=form,
            problem=problem,
            versions=study.consent_versions.order_by("-created_at", "-id"),
        ),
        status=409 if problem else (422 if form.errors else 200),
    )


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def events(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int
) -> HttpResponse:
    study = membership.study
    form = AddEventForm(_posted(request))
    problem = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = do_add_event(
                study,
                code=data["code"],
                label=per_language(data, "label"),
                day_offset=data["day_offset"],
                window_days=data["window_days"],
                reminder_days=data["reminder_days"],
                actor=request.user,
            )
        except SetupRefused as error:
            problem = str(error)
        else:
            messages.success(request, _("Event added; now choose its instruments."))
            return redirect("builder:event", study_id=study_id, event_id=event.pk)
    return render(
        request,
        "builder/events.html",
        study_context(
            membership,
            form=form,
            problem=problem,
            events=study.events.prefetch_related("battery"),
        ),
        status=409 if problem else (422 if form.errors else 200),
    )


@study_view("manage_study")
@require_http_methods(["GET", "POST"])
def event(
    request: AuthenticatedHttpRequest, membership: Membership, study_id: int, event_id: int
) -> HttpResponse:
    study = membership.study
    found = get_object_or_404(study.events.all(), pk=event_id)
    initial = {
        "day_offset": found.day_offset,
        "window_days": found.window_days,
        "reminder_days": ", ".join(str(d) for d in found.reminder_days),
        "battery": "\n".join(found.instrument_ids()),
        **{f"label_{c}": found.label.get(c, "") for c, _n in LANGUAGES},
    }
    form = EventForm(_posted(request), initial=initial)
    problem = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            do_change_event(
                found,
                label=per_language(data, "label"),
                day_offset=data["day_offset"],
                window_days=data["window_days"],
                reminder_days=data["reminder_days"],
                battery=data["battery"],
                actor=request.user,
            )
        except SetupRefused as error:
            problem = str(error)
        else:
            messages.success(request, _("Event saved."))
            return redirect("builder:events", study_id=study_id)
    return render(
        request,
        "builder/event.html",
        study_context(
            membership,
            form=form,
            problem=problem,
            event=found,
            available=available_instruments(study),
        ),
        status=409 if problem else (422 if form.errors else 200),
    )
