"""Participant-facing survey views: link -> consent -> language -> pages -> done.

No login: the secret link is the credential. Views are thin: find the invitation, parse
the form, call one service, pick the next page.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fibrosurvey.instruments.extra import definition_key
from fibrosurvey.web.builder.active import instruments_for_battery
from fibrosurvey.web.participants.invitations import find_invitation
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.survey import services
from fibrosurvey.web.survey.forms import page_fields
from fibrosurvey.web.survey.pages import SurveyPage, battery_logic, next_shown, progress, shown
from fibrosurvey.web.survey.rules import AnswersRefused, WriteRefusal, write_refusal

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def participant_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve the token to an active invitation and answer in the participant's language."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        invitation = find_invitation(token)
        if invitation is None:
            response = render(request, "survey/invalid_link.html", status=404)
            return response
        language = invitation.participant.language
        own = instruments_for_battery(
            invitation.participant.study_id, invitation.event.current_instrument_ids()
        )
        with translation.override(language), own:
            response = view(request, invitation, token, *args, **kwargs)
            response["Content-Language"] = language
        # Never cache pages that show a participant's answers.
        response["Cache-Control"] = "no-store"
        return response

    return never_cache(wrapper)


def _context(invitation: Invitation, token: str, **extra: Any) -> dict[str, Any]:
    study = invitation.participant.study
    return {
        "invitation": invitation,
        "token": token,
        "study": study,
        "study_title": study.title_in(invitation.participant.language),
        "language": invitation.participant.language,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in study.languages],
        **extra,
    }


def _refused(request: HttpRequest, refusal: WriteRefusal, token: str) -> HttpResponse:
    """Where a participant goes when the write rule (``survey.rules``) refuses answers."""
    if refusal.reason == "consent":
        return redirect("survey:consent", token=token)
    if refusal.reason == "completed":
        return redirect("survey:done", token=token)
    return render(request, "survey/invalid_link.html", status=404)


def _next_step(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """Language first (so consent is read in it), then consent, then the pages."""
    refusal = write_refusal(invitation)
    if refusal is not None and refusal.reason != "consent":
        return _refused(request, refusal, token)
    if not invitation.language_chosen:
        return redirect("survey:language", token=token)
    if refusal is not None:
        return _refused(request, refusal, token)
    return redirect("survey:page", token=token, number=invitation.current_page + 1)


@participant_view
def entry(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    if invitation.opened_at is None:
        invitation.opened_at = timezone.now()
        invitation.save(update_fields=["opened_at"])
    return _next_step(request, invitation, token)


@participant_view
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    study = invitation.participant.study
    language = invitation.participant.language
    error = ""
    if invitation.completed_at is not None:  # a finished link only says the answers are saved
        return redirect("survey:done", token=token)
    agreed = False
    if request.method == "POST":
        agreed = request.POST.get("agree") == "yes"
        if request.POST.get("switch_language"):
            # The page again in the other language, with the box as the participant left it.
            language = _offered(request.POST.get("switch_language"), study.languages, language)
            services.do_choose_language(invitation, language=language)
            with translation.override(language):
                response = _consent_page(request, invitation, token, agreed=agreed)
                response["Content-Language"] = language
            return response
        if agreed:
            services.do_record_consent(invitation, language=language)
            return _next_step(request, invitation, token)
        error = _("To take part, please tick the box to say you agree.")
    return _consent_page(request, invitation, token, agreed=agreed, error=error)


def _consent_page(
    request: HttpRequest, invitation: Invitation, token: str, *, agreed: bool, error: str = ""
) -> HttpResponse:
    study = invitation.participant.study
    language = invitation.participant.language
    text = study.consent_text.get(language) or study.consent_text.get("en", "")
    return render(
        request,
        "survey/consent.html",
        _context(
            invitation,
            token,
            paragraphs=[p for p in text.split("\n\n") if p.strip()],
            error=error,
            agreed=agreed,
            version=study.consent_version,
        ),
        status=422 if error else 200,
    )


def _fields_cache_key(page: SurveyPage, language: str, values: dict[str, str]) -> str:
    """What the rendered questions of a page depend on when no answer needs correcting."""
    answers = json.dumps(values, sort_keys=True)
    instrument = page.instrument
    asked = ",".join(page.columns)  # skip logic may hide some of the page's items
    # definition_key: a study's own instrument may share its id with another study's.
    place = f"{definition_key(instrument.id)}@{instrument.version}|{page.country}|{page.part}"
    return hashlib.sha256(f"{place}|{asked}|{language}|{answers}".encode()).hexdigest()


def _offered(choice: str | None, offered: list[str], fallback: str) -> str:
    return choice if choice in offered else fallback


@participant_view
@require_http_methods(["GET", "POST"])
def language(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    study = invitation.participant.study
    refusal = write_refusal(invitation)
    if refusal is not None and refusal.reason != "consent":  # chosen before consent
        return _refused(request, refusal, token)
    if request.method == "POST":
        choice = request.POST.get("language")
        if choice is not None and choice in study.languages:
            services.do_choose_language(invitation, language=choice)
            return _next_step(request, invitation, token)
    return render(request, "survey/language.html", _context(invitation, token))


@participant_view
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest, invitation: Invitation, token: str, number: int) -> HttpResponse:
    participant = invitation.participant
    refusal = write_refusal(invitation)
    if refusal is not None and request.method != "POST":
        return _refused(request, refusal, token)
    pages = services.survey_pages(invitation)
    if not 1 <= number <= len(pages):
        raise Http404("no such page")
    current = pages[number - 1]
    problems: dict[str, Any] = {}
    reload_needed = False
    if request.method == "POST":
        # Switching language saves the page as it is (no answer is needed to stay) and shows it
        # again in the other language: nothing ticked is lost.
        switch_to = request.POST.get("switch_language")
        going_back = request.POST.get("action") == "back"
        moving_to = (
            current.index if switch_to else current.index - 1 if going_back else current.index + 1
        )
        raw = services.parse_page_answers(current, request.POST)
        try:
            # A refused write still recognises a replay of a form stored earlier (its reply
            # may have been lost), so do_save_page decides, not a check here.
            result = services.do_save_page(
                invitation,
                current,
                raw,
                nonce=request.POST.get("nonce", "").strip(),
                moving_to=max(moving_to, 0),
                pages=pages,
                # Moving on needs the required answers; going back or switching language not.
                require_answers=not (switch_to or going_back),
            )
        except AnswersRefused as refused:
            return _refused(request, refused.refusal, token)
        if result.saved and not result.replayed:
            moving_to = result.moved_to  # past the pages skip logic hides
        if result.saved:
            if switch_to and switch_to in participant.study.languages:
                services.do_choose_language(invitation, language=switch_to)
            if result.safety_alert:
                return redirect("survey:safety", token=token, number=moving_to + 1)
            if moving_to >= len(pages):
                return redirect("survey:done", token=token)
            return redirect("survey:page", token=token, number=max(moving_to, 0) + 1)
        problems = result.problems
        reload_needed = result.reload_needed
        values = {column: value or "" for column, value in raw.items()}
    # What the page asks follows from the event's stored answers (read only to render; a
    # page without skip logic needs only its instrument's).
    if current.gated:
        answers = services.event_answers(invitation)
        disabled = battery_logic(pages).disabled_columns(answers)
    else:
        answers = services.instrument_answers(invitation, current.instrument.id)
        disabled = set()
    if request.method != "POST":
        if disabled.issuperset(current.columns):
            # Nothing on this page is asked given the answers so far (e.g. an old link).
            following = next_shown(pages, current.index, 1, lambda: answers)
            if following < len(pages):
                return redirect("survey:page", token=token, number=following + 1)
        if invitation.current_page != current.index:
            invitation.current_page = current.index
            invitation.save(update_fields=["current_page"])
        values = {
            column: "" if answers.get(column) is None else str(answers[column])
            for column in current.columns
        }
    # Items skip logic hides are not shown (their answers are refused and never stored).
    asked = shown(current, disabled)
    language = participant.language
    if current.gated or not any(page.gated for page in pages):
        known = answers
    else:
        known = services.event_answers(invitation)
    position, total = progress(pages, current.index, known)
    return render(
        request,
        "survey/page.html",
        _context(
            invitation,
            token,
            page=current,
            number=position,
            total=total,
            fields=page_fields(asked, language, values, problems),
            fields_cache_key=""
            if problems or reload_needed
            else _fields_cache_key(asked, language, values),
            title=current.instrument.participant_title_in(language),
            checklist=current.display == "checklist",
            every_answer_needed=current.every_answer_needed,
            recall=current.instrument.recall_period.get(language, ""),
            instructions=current.instrument.page_instruction(current.part - 1, language),
            nonce=secrets.token_urlsafe(24),
            error_count=len([c for c in problems if c in asked.columns]),
            # Answers to questions no longer asked (a stale form, another tab): not shown.
            hidden_answered=any(c not in asked.columns for c in problems),
            reload_needed=reload_needed,
        ),
        status=400 if reload_needed else 422 if problems else 200,
    )


@participant_view
def safety(request: HttpRequest, invitation: Invitation, token: str, number: int) -> HttpResponse:
    pages = services.survey_pages(invitation)
    finished = number > len(pages)
    language = invitation.participant.language
    study = invitation.participant.study
    contact = study.safety_contact.get(language, "")
    # The numbers of the study's country, whatever the language (fibrosurvey.countries).
    country = study.country_info()
    return render(
        request,
        "survey/safety.html",
        _context(
            invitation,
            token,
            next_number=number,
            finished=finished,
            study_contact=contact,
            emergency=country.emergency,
            crisis=country.crisis,
            crisis_name=country.crisis.name_in(language),
        ),
    )


@participant_view
def done(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """The only page a finished link shows: no answers (they could be anyone's to read)."""
    if invitation.completed_at is None:
        return _next_step(request, invitation, token)
    return render(request, "survey/done.html", _context(invitation, token))
